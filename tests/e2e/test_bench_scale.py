"""`cardreg bench scale` with tiny sizes: every figure is printed, the logins see no errors,
and the bench's own database is gone afterwards (the figures themselves are not asserted)."""

from __future__ import annotations

import re
import subprocess

import psycopg
import pytest

from .system import CARDREG


@pytest.mark.timeout(600)
def test_the_scale_bench_prints_every_figure(postgres_server_url):
    result = subprocess.run(
        [str(CARDREG), "bench", "scale", "--server-url", postgres_server_url,
         "--people", "400", "--samples", "10", "--wallet-people", "6",
         "--login-seconds", "2", "--clients", "2"],
        capture_output=True, text=True, timeout=540, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"imported 400 people and 400 cards .* 0 rows rejected", out), out
    assert re.search(r"import \(COPY\) +[\d.]+ s +[\d,]+ people/s", out), out
    assert re.search(r"projected for 23\.5M +[\d.]+ min", out), out
    for what in ("identity card verify \\(bus\\)", "registry lookup \\(HTTP\\)"):
        assert re.search(rf"{what} +p50 +[\d.]+ ms +p99 +[\d.]+ ms +\(10 samples\)", out), out
    for what in ("PostgreSQL, 1 replica", "PostgreSQL, 2 replicas", "sqlite, 1 replica"):
        assert re.search(rf"logins/s, {what} +[\d.]+ .* errors 0 ", out), out
    (database,) = re.findall(r"^database (bench_scale_\w+)$", out, re.MULTILINE)
    with psycopg.connect(postgres_server_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (database,))
        assert left.fetchone() == (0,)
