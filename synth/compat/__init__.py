"""Glue that lets third-party tools run inside synth processes."""
