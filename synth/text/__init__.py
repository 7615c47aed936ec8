"""Text helpers shared by the text scenes: fonts and glyph coverage, text sources, mask-to-box labels."""
