#!/usr/bin/env bash
# Set up, then run every test: `scripts/test.sh [pytest options]`.
# Needs root the first time on a fresh machine (Debian packages: PC/SC stack, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh
scripts/setup.sh
npm ci --prefix tests/browser --no-audit --no-fund --silent
npm ci --prefix tests/oidc --no-audit --no-fund --silent
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { echo "ruff format: files need formatting" >&2; exit 1; }
.venv/bin/cardreg asyncapi --check
.venv/bin/cardreg catalogues --check
.venv/bin/mypy  # strict, on shared/ (pyproject.toml [tool.mypy])
# Each package's tests with only its own declared dependencies: beside pytest, which leaves
# most of the second core idle; its verdict counts as much as pytest's.
checks=$(mktemp)
trap 'rm -f "$checks"' EXIT
scripts/check-packages.sh >"$checks" 2>&1 &
checker=$!
status=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" || status=$?
if ! wait "$checker"; then
  cat "$checks"
  echo "package check failed" >&2
  exit 1
fi
cat "$checks"
exit "$status"
