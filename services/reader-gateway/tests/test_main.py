"""`python -m cardreg_gateway`: serves over HTTP, stops cleanly on SIGTERM / SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys

import httpx
import pytest


async def start_gateway(nats_url: str, **extra: str) -> asyncio.subprocess.Process:
    env = os.environ | {
        "CARDREG_NATS_URL": nats_url,
        "CARDREG_GATEWAY_HTTP_PORT": "0",
        "CARDREG_GATEWAY_OPERATOR_PORT": "0",
        "CARDREG_LOG_LEVEL": "INFO",
        **extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cardreg_gateway",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for_url(proc: asyncio.subprocess.Process, seen: list[str]) -> str:
    while True:
        line = (await proc.stderr.readline()).decode()
        if not line:
            raise AssertionError("gateway exited before listening:\n" + "".join(seen))
        seen.append(line)
        if found := re.search(r"listening on (http://\S+)", line):
            return found.group(1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serves_then_stops_cleanly_on_signal(nats_url, sig) -> None:
    proc = await start_gateway(nats_url)
    seen: list[str] = []
    try:
        url = await asyncio.wait_for(wait_for_url(proc, seen), timeout=20)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/healthz?token=s3cr3t")).status_code == 200
            assert (await http.post("/api/v1/challenges")).status_code == 201
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = "".join(seen) + (await proc.stderr.read()).decode()
    assert code == 0, log
    assert "Traceback" not in log
    assert "GET /healthz 200" in log  # our access log ...
    assert 'HTTP/1.1"' not in log  # ... and not uvicorn's
    assert "s3cr3t" not in log
    assert "stopped" in log


async def test_metrics_move_to_their_own_port_when_one_is_given(nats_url) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    proc = await start_gateway(nats_url, CARDREG_GATEWAY_METRICS_PORT=str(metrics_port))
    seen: list[str] = []
    try:
        url = await asyncio.wait_for(wait_for_url(proc, seen), timeout=20)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.post("/api/v1/challenges")).status_code == 201
            # Off the public port (a 404 like any unknown path) ...
            assert (await http.get("/metrics")).status_code == 404
            scraped = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
        # ... and on its own, with the request just made.
        assert scraped.status_code == 200
        assert re.search(
            r'cardreg_http_requests_total\{method="POST",route="/api/v1/challenges",'
            r'status="201"\} 1\.0',
            scraped.text,
        ), scraped.text
        assert "process_cpu_seconds_total" in scraped.text
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_stops_at_once_while_nats_is_unreachable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = await start_gateway(f"nats://127.0.0.1:{port}")
    seen: list[str] = []
    try:
        # nats-py keeps retrying the first connect; wait until it has failed once.
        while "nats error" not in "".join(seen):
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=20)
            assert line, "".join(seen)
            seen.append(line.decode())
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = "".join(seen) + (await proc.stderr.read()).decode()
    assert code == 0, log
    assert "Traceback" not in log
    assert "listening on" not in log
