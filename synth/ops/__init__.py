"""Reusable operators shared by scenes: image and audio kernels, augmentation chains."""
