#!/usr/bin/env bash
# Set up everything cardreg needs on a fresh Debian machine with Python 3.11:
# uv (from PyPI) and the workspace's virtual environment at .venv (locked versions).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

if ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet uv 2>/dev/null \
    || "$PYTHON" -m pip install --quiet --user --break-system-packages uv
fi
# Never download a Python: use the machine's.
UV_PYTHON_DOWNLOADS=never "$PYTHON" -m uv sync --frozen --python "$PYTHON" "$@"
