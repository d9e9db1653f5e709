"""schemathesis against the live gateway of `cardreg up`: every documented operation, every
check (`--checks all`) plus our own (`schemathesis_hooks.py`), bounded examples
(`schemathesis.toml`). The README's "Tests" says what the configuration allows and why."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_schemathesis_finds_no_failure_against_the_live_gateway(system, tmp_path):
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{system.url}/openapi.json",
            "--checks",
            "all",
            # OAuth 2.0's own endpoints speak RFC 6749 (form bodies, its error shape), not the
            # API's contract: two independent client libraries test them
            # (test_oidc_clients.py). Discovery and the authorization page's call stay in.
            "--exclude-path-regex",
            "^/oauth2/(token|revoke|introspect|userinfo)$",
            "--seed",
            "1",  # the same cases every run; a failure reproduces with the same seed
            # One worker: with two, hypothesis' lambda descriptions call ast.parse from two
            # threads at once, which CPython 3.11 can fail with "AST constructor recursion
            # depth mismatch" (a SystemError in the tool, not a finding).
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "schemathesis_hooks.py")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts, output[-2000:]
    generated, passed = map(int, counts.groups())
    assert generated == passed and generated > 500
    assert "26 passed" in output  # every operation, in the coverage and fuzzing phases
