# Two commands do everything on a fresh machine (see README): `make demo` and `make test`.
.PHONY: setup demo test bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/synth generate recipes/shapes.yaml --workspace workspace
	.venv/bin/synth preview recipes/shapes.yaml -n 16 -o workspace/preview.png
	.venv/bin/synth show --workspace workspace

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python benchmarks/shapes_throughput.py
