"""Real data next to synthetic data: import, mix, leak-free splits, diffs, label lineage and verify."""
