#!/usr/bin/env bash
# Set up everything synth needs on a fresh Debian machine with Python 3.11 and pip:
# the Debian packages in deps/apt.txt (when run as root), uv (inside the clone), and the locked venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. Debian packages (fonts, WordNet data, Blender's X/GL libraries, Chromium for the report test)
want=$(grep -v '^\s*#' deps/apt.txt | awk 'NF{print $1}' | sort -u)
missing=()
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
fi

# 2. uv, pinned, installed into the clone (nothing outside it is relied on)
UV_VERSION=0.13.8
if [ ! -x .tools/bin/uv ]; then
  echo "setup: installing uv $UV_VERSION into .tools/"
  python3 -m venv .tools
  .tools/bin/python -m pip install -q "uv==$UV_VERSION"
fi

# 3. the project's locked environment, all extras (3d, ray) and the dev group
export UV_PYTHON_DOWNLOADS=never
.tools/bin/uv sync --frozen --all-extras --python python3.11 -q

# 3b. torch for synth.torch and its test (issue 18; a minimal step, not in uv.lock): the CPU wheel in
#     pip's local wheel folder (pip's `find-links`). uv reads no pip config, and the torch uv would
#     resolve is a multi-GB CUDA build. After `uv sync`, which removes what the lock does not name.
TORCH_VERSION=2.13.0
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  links=$( { python3 -m pip config list 2>/dev/null | sed -n "s/.*find-links='\(.*\)'/\1/p"; \
             echo "${PIP_FIND_LINKS:-}"; } | tr ' ' '\n' | sort -u)
  wheel=$(for d in $links; do ls "$d"/torch-"$TORCH_VERSION"+cpu-cp311-*.whl 2>/dev/null || true; done | head -1)
  if [ -n "$wheel" ]; then
    .tools/bin/uv pip install -q --python .venv/bin/python "$wheel"
  else
    echo "setup: no torch-$TORCH_VERSION+cpu wheel in pip's find-links; synth.torch needs torch" >&2
  fi
fi

# 4. bytecode for every installed module and our own packages. Without it, a machine that sets
#    PYTHONDONTWRITEBYTECODE recompiles pandas, pyarrow, lance, ... in every process: about 1 s
#    per CLI call and per spawned worker. Incremental: a second run takes a few seconds.
PYTHONDONTWRITEBYTECODE= .venv/bin/python -m compileall -q -j 0 .venv/lib/python3.11/site-packages \
  synth scenes ssl_tasks benchmarks >/dev/null 2>&1 || true
