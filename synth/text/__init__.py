"""Text helpers shared by the text scenes: trdg (and its Pillow shim), fonts and glyph coverage, text sources,
grammar, noise, spans, mask-to-box labels."""
