#!/usr/bin/env bash
# Set up, then run every test: `scripts/test.sh [pytest options]`.
# Needs root the first time on a fresh machine (Debian packages: PC/SC stack, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh
scripts/setup.sh
npm ci --prefix tests/browser --no-audit --no-fund --silent
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { echo "ruff format: files need formatting" >&2; exit 1; }
.venv/bin/cardreg asyncapi --check
.venv/bin/mypy  # strict, on shared/ (pyproject.toml [tool.mypy])
scripts/check-packages.sh  # each package's tests with only its own declared dependencies
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
