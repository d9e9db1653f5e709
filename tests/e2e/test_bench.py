"""`cardreg bench login` and `cardreg bench bus`, tiny runs against the running system: the
figures are there and well formed (their values are never asserted: timings are not tests)."""

from __future__ import annotations

import json

from .system import RunningSystem


def bench(system: RunningSystem, *args: str) -> dict:
    done = system.cardreg("bench", *args, "--url", system.url, "--data-dir", str(system.data_dir))
    return json.loads(done.stdout)


def test_bench_login_reports_its_baselines_cpu_per_process_and_foreign_load(system, tmp_path):
    wallet = tmp_path / "bench-wallet.jsonl"
    system.seed(wallet, citizens=3, foreigners=0)
    report = bench(
        system,
        "login",
        "--wallet",
        str(wallet),
        "--accounts",
        "3",
        "--clients",
        "1,2",
        "--duration",
        "3",  # CPU time comes in ticks of 10 ms: enough logins for every part to show
        "--baseline-seconds",
        "0.3",
        "--json",
    )
    # The registry's own parameters (cardreg up runs DESIGN's defaults), asked, not assumed.
    assert report["hash_params"] == {"memory_kib": 19456, "time_cost": 2, "parallelism": 1}
    assert report["accounts"] == {"registered": 3}
    # A baseline before the first window and one after each.
    assert len(report["baselines"]) == 3
    assert all(b["verify_per_s"] > 0 and b["one_hash_cpu_ms"] > 0 for b in report["baselines"])
    assert [w["clients"] for w in report["windows"]] == [1, 2]
    for window in report["windows"]:
        assert window["logins"] > 0 and window["errors"] == {}
        for part in ("gateway", "registry", "identity", "nats-server", "load client"):
            assert window["cpu_ms_per_login"][part] > 0, part
        # The registry does the hashing: it costs at least most of one hash per login.
        assert window["cpu_ms_per_login"]["registry"] > 0.5 * window["one_hash_ms"]["cpu"]
        assert window["foreign_cores"] >= 0
        assert set(window["latency_ms"]) == {"p50", "p95", "p99"}
        before, after = window["bare_verify_per_s"].values()
        assert window["ratio"] == window["logins_per_s"] / max(before, after)
    assert set(report["by_clients"]) == {"1", "2"}


def test_bench_bus_prints_each_path_beside_its_baseline(system, tmp_path):
    wallet = tmp_path / "bus-wallet.jsonl"
    system.seed(wallet, citizens=2, foreigners=0)
    report = bench(
        system, "bus", "--wallet", str(wallet), "--in-flight", "4", "--duration", "0.3", "--json"
    )
    paths = ("bus_lookup", "raw_two_hop_echo", "challenge", "fastapi_hello", "http_lookup")
    assert set(report["per_s"]) == set(paths)
    for path in paths:
        assert report["per_s"][path]["per_s"] > 0, path
        assert report["per_s"][path]["cpu_ms_per_call"] > 0, path
    assert (
        set(report["ratios"])
        == set(report["cpu_ratios"])
        == {
            "bus_lookup/raw_two_hop_echo",
            "challenge/fastapi_hello",
            "http_lookup/bus_lookup",
        }
    )
