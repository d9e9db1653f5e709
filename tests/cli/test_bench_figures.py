"""The benchmarks' arithmetic and their reading of /proc, without a running system."""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter

import pytest
from cardreg_bench import figures, procstat
from cardreg_bench.argon2_baseline import HashParams
from cardreg_bench.login import client_counts


def usage(parts: dict[str, float], foreign: float = 0.0, seconds: float = 10.0):
    return procstat.Usage(seconds, parts, foreign)


def window(**changes) -> figures.Window:
    values = {
        "clients": 2,
        "elapsed": 10.0,
        "latencies": [0.02] * 98 + [0.05, 0.09],  # 100 logins
        "errors": {},
        "usage": usage({"gateway": 0.3, "registry": 2.2, "nats-server": 0.1, "load client": 0.1}),
        "bare_before": 12.0,
        "bare_after": 12.5,
        "hash_wall": 0.02,
        "hash_cpu": 0.019,
    }
    return figures.Window(**{**values, **changes})


def test_the_ratio_is_taken_against_the_higher_baseline():
    w = window(bare_before=8.0, bare_after=12.5)  # a burst of foreign load before the window
    assert w.rate == pytest.approx(10.0)
    assert w.ratio() == pytest.approx(10.0 / 12.5)
    summary = w.summary()
    assert summary["ratio_before_after"] == pytest.approx([10.0 / 8.0, 10.0 / 12.5])
    assert summary["ratio"] == pytest.approx(0.8)


def test_cpu_per_login_and_what_is_left_besides_the_hash():
    summary = window().summary()
    assert summary["cpu_ms_per_login"] == pytest.approx(
        {"gateway": 3.0, "load client": 1.0, "nats-server": 1.0, "registry": 22.0}
    )
    # 27 ms per login over every process, 19 of which are the one verify.
    assert summary["non_hash_ms"] == pytest.approx(8.0)
    assert summary["registry_non_hash_ms"] == pytest.approx(3.0)


def test_percentiles_and_the_tail_in_hashes():
    summary = window().summary()
    assert summary["latency_ms"]["p50"] == pytest.approx(20.0)
    assert 50.0 <= summary["latency_ms"]["p99"] <= 90.0
    assert summary["p99_per_hash"] == pytest.approx(summary["latency_ms"]["p99"] / 20.0)
    assert math.isnan(figures.percentile([], 50))
    assert figures.percentile([0.5], 99) == 0.5


def test_a_window_without_logins_reports_no_cost_rather_than_dividing_by_zero():
    summary = window(latencies=[], errors={"invalid_credentials": 7}).summary()
    assert summary["logins"] == 0 and summary["logins_per_s"] == 0.0
    assert summary["cpu_ms_per_login"] == {} and math.isnan(summary["non_hash_ms"])
    assert summary["errors"] == {"invalid_credentials": 7}


def test_repetitions_give_median_and_range_and_the_report_is_json():
    runs = [
        window(latencies=[0.02] * n, usage=usage({"gateway": 0.3}, foreign=f)).summary()
        for n, f in ((90, 2.0), (100, 0.0), (120, 5.0))
    ]
    over = figures.over_repetitions(runs)
    assert over["repetitions"] == 3
    assert over["logins_per_s"] == {"median": 10.0, "min": 9.0, "max": 12.0}
    assert over["foreign_cores"] == pytest.approx({"median": 0.2, "min": 0.0, "max": 0.5})
    assert over["cpu_ms_per_login"]["gateway"]["median"] == pytest.approx(3.0)
    text = json.dumps({"windows": runs, "by_clients": {"2": over}})
    assert json.loads(text)["by_clients"]["2"]["ratio"]["max"] == pytest.approx(12.0 / 12.5)
    assert "median [range] over 3" in figures.spread_line(over)
    assert "foreign load" in figures.table(runs[0])


def test_foreign_load_is_the_machine_beyond_the_system_and_the_client():
    before = procstat.Snapshot(Counter({"gateway": 100, "load client": 50}), machine=1000)
    after = procstat.Snapshot(Counter({"gateway": 300, "load client": 150}), machine=1800)
    used = procstat.Usage.between(before, after, seconds=4.0)
    hz = procstat.HZ
    assert used.parts == {"gateway": 200 / hz, "load client": 100 / hz}
    assert used.foreign == pytest.approx(500 / hz)
    assert used.foreign_cores == pytest.approx(500 / hz / 4.0)


def test_proc_gives_this_process_its_cpu_and_its_parts_their_names():
    started = procstat.cpu_ticks(os.getpid())
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass
    assert procstat.cpu_ticks(os.getpid()) > started
    assert procstat.cpu_ticks(2**22 + 7) is None  # beyond pid_max: no such process
    assert procstat.machine_busy_ticks() > 0
    assert procstat.part_of(["/venv/bin/python", "-m", "cardreg_gateway"]) == "gateway"
    assert procstat.part_of(["/venv/bin/nats-server", "-c", "x.conf"]) == "nats-server"
    assert procstat.part_of(["python", "-m", "cardreg.mailcatcher"]) == "mail catcher"
    assert procstat.part_of(["python", "/venv/bin/cardreg", "up"]) == "cardreg up"


def test_no_system_is_found_for_a_data_dir_nothing_runs_for(tmp_path):
    assert procstat.system_processes(tmp_path) == {}


def test_hash_parameters_come_from_the_registry_or_not_at_all():
    announced = {
        "password_hash": "argon2id",
        "argon2_memory_kib": "7168",
        "argon2_time_cost": "5",
        "argon2_parallelism": "1",
    }
    assert HashParams.from_metadata(announced) == HashParams(7168, 5, 1)
    with pytest.raises(ValueError, match="does not announce"):
        HashParams.from_metadata({})
    with pytest.raises(ValueError, match="unreadable"):
        HashParams.from_metadata({**announced, "argon2_time_cost": "five"})


def test_client_counts_are_a_list():
    assert client_counts("2,4") == [2, 4]
    with pytest.raises(Exception, match="positive"):
        client_counts("0")
