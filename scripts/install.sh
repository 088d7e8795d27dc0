#!/usr/bin/env bash
# Install everything autograd_nn needs on a fresh Debian machine (run as root).
#   bash scripts/install.sh          runtime + examples (the main job)
#   bash scripts/install.sh test     also the test tools and PyTorch 2.13.0 (CPU) for parity tests
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot >/dev/null 2>&1; then  # Graphviz's `dot`, for computation-graph pictures
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "install.sh: please install Graphviz (the 'dot' program) with your package manager" >&2
  fi
fi

python -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  # torch is a test/benchmark dependency only; 2.13.0 is the CPU build on these machines.
  python -m pip install -q "torch==2.13.0" || echo "install.sh: torch unavailable; parity tests will skip" >&2
  python -m pip install -q -e ".[test]"
else
  python -m pip install -q -e ".[examples]"
fi
