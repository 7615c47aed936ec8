"""Operations that make a new version from stored data: import real data, mix, leak-free splits, label
corrections, pretext labels on a version, running sweeps, a version's table blocks as one frame."""
