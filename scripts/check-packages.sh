#!/usr/bin/env bash
# Each workspace package on its own: a throwaway venv with only what the package declares
# (its locked dependencies and extras) plus the test kit and pytest, then every module of the
# package imported and its tests collected (every test module imported) and its unit tests
# run. An import that works in the workspace's .venv only because another package brought it
# (a phantom import) fails here. The reader agent is also installed alone, without the test
# kit, and must not bring nats-py, FastAPI or uvicorn.
#
# Offline: everything comes from the uv cache that `scripts/setup.sh` (uv sync) filled.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
uv() { UV_PYTHON_DOWNLOADS=never "$PYTHON" -m uv "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

venv_with() {  # venv_with NAME PACKAGE...: the venv NAME holding exactly these packages' locked closures
  local name=$1; shift
  local exact=()
  for package in "$@"; do
    UV_PROJECT_ENVIRONMENT="$work/$name" uv sync --quiet --frozen --offline --no-dev \
      --all-extras --package "$package" "${exact[@]}"
    exact=(--inexact)  # the next package adds to the venv instead of replacing it
  done
}

import_all() {  # import_all VENV MODULE: import every module of the package MODULE
  "$work/$1/bin/python" - "$2" <<'PY'
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
PY
}

check() {  # check DISTRIBUTION MODULE TESTS
  local started=$SECONDS
  venv_with check "$1" cardreg-testkit  # one venv, re-synced exactly: only the changes move
  import_all check "$2"
  "$work/check/bin/python" -m pytest -q -p no:cacheprovider -m unit "$3" >"$work/$1.log" 2>&1 \
    || { cat "$work/$1.log"; echo "package check: $1 fails on its own dependencies" >&2; exit 1; }
  echo "package check: $1 ok ($(tail -1 "$work/$1.log" | sed 's/=//g' | xargs); $((SECONDS - started)) s)"
}

check cardreg-shared cardreg_shared shared/tests
check cardreg-identity cardreg_identity services/identity/tests
check cardreg-registry cardreg_registry services/registry/tests
check cardreg-mailer cardreg_mailer services/mailer/tests
check cardreg-reader-gateway cardreg_gateway services/reader-gateway/tests
check cardreg-reader-agent cardreg_agent agent/tests
check cardreg-example-passbook cardreg_passbook examples/passbook/tests

# The agent as a user's PC gets it: no bus, no gateway server stack.
venv_with agent-alone cardreg-reader-agent
import_all agent-alone cardreg_agent
"$work/agent-alone/bin/python" - <<'PY'
import importlib.util
brought = [m for m in ("nats", "fastapi", "uvicorn", "cardreg_gateway") if importlib.util.find_spec(m)]
assert not brought, f"the reader agent brings {brought}"
PY
echo "package check: cardreg-reader-agent installs without nats-py, FastAPI, uvicorn"

# The example relying service knows cardreg only by its OpenID Connect endpoints.
venv_with passbook-alone cardreg-example-passbook
import_all passbook-alone cardreg_passbook
"$work/passbook-alone/bin/python" - <<'PY'
import importlib.util
brought = [m for m in ("nats", "cardreg_shared", "cardreg_registry", "cardreg_gateway") if importlib.util.find_spec(m)]
assert not brought, f"the passbook example brings {brought}"
PY
echo "package check: cardreg-example-passbook installs without any cardreg service or nats-py"
