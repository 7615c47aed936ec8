"""Tables from declared or fitted distributions: column specs, Gaussian copula sampling, expressions."""
