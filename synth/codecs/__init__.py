"""Encodings below everything: PNG and JPEG writers, canonical JSON (what hashes are taken over), bit masks."""
