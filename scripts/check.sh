#!/usr/bin/env bash
# Everything CI checks, in order, stopping at the first failure:
# lint (ruff), formatting (ruff format), types (mypy), then the test suite on 2 workers.
# Run after `bash scripts/install.sh test`; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
ruff format --check .
mypy
python -m pytest -q -n 2 "$@"
