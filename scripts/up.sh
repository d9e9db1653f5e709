#!/usr/bin/env bash
# Set up, then run the whole system: `scripts/up.sh [cardreg up options]`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-dev
exec .venv/bin/cardreg up "$@"
