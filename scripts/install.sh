#!/usr/bin/env bash
# Install everything autograd_nn needs on a fresh Debian machine (run as root, or inside a virtualenv).
#   bash scripts/install.sh              runtime + examples + ONNX export (the main job)
#   bash scripts/install.sh distributed  also Open MPI and mpi4py: training on several processes
#   bash scripts/install.sh test         also the test and lint tools, Open MPI + mpi4py (multi-process tests)
#                                        and PyTorch 2.13.0 (CPU) for parity tests
# Every Python package comes at the exact version in requirements/constraints.txt, so a new release
# of a tool cannot change what runs; `bash scripts/lock.sh` refreshes that file on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
pins=requirements/constraints.txt
mode="${1:-}"

system=()  # Debian packages still missing
if ! command -v dot >/dev/null 2>&1; then  # Graphviz's `dot`, for computation-graph pictures
  system+=(graphviz)
fi
if { [ "$mode" = "test" ] || [ "$mode" = "distributed" ]; } && ! command -v mpirun >/dev/null 2>&1; then
  system+=(openmpi-bin libopenmpi-dev)  # Open MPI: mpirun and the library mpi4py loads
fi
if [ "${#system[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${system[@]}" >/dev/null
  else
    echo "install.sh: please install with your package manager: ${system[*]}" >&2
  fi
fi

pip() { python -m pip install -q --disable-pip-version-check -c "$pins" "$@"; }
pip pip setuptools  # the pinned installer and build backend; the project builds with them below
if [ "$mode" = "test" ]; then
  # torch is a test/benchmark dependency only; 2.13.0 is the CPU build on these machines.
  pip torch || echo "install.sh: torch unavailable; parity tests will skip" >&2
  pip --no-build-isolation -e ".[test,lint]"
elif [ "$mode" = "distributed" ]; then
  pip --no-build-isolation -e ".[examples,onnx,distributed]"
else
  pip --no-build-isolation -e ".[examples,onnx]"
fi
