"""Tables from declared or fitted distributions: column specs, Gaussian copula sampling, expressions,
blocks as blobs, and `fit` (a real table -> an editable recipe)."""
