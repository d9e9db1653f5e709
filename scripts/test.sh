#!/usr/bin/env bash
# Set up, then run every test: `scripts/test.sh [pytest options]`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
