# Two commands do everything on a fresh machine (see README): `make demo` and `make test`.
.PHONY: setup demo test test-slow bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/synth generate recipes/shapes.yaml --workspace workspace
	.venv/bin/synth preview recipes/shapes.yaml -n 16 -o workspace/preview.png
	.venv/bin/synth show --workspace workspace

test: setup
	.venv/bin/python -m pytest

# the slow tier (pip install of the built wheel into a fresh venv, a two-node Ray cluster): .ci/run runs it too
test-slow: setup
	.venv/bin/python -m pytest -m slow

bench: setup
	.venv/bin/python benchmarks/shapes_throughput.py
