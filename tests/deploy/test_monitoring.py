"""The compose `monitoring` profile: Prometheus scrapes every service where it serves its
metrics, and every metric the Grafana dashboard plots is one the services expose."""

from __future__ import annotations

import json
import re

import yaml
from cardreg import natsconfig
from prometheus_client import REGISTRY

from .test_deploy import DEPLOY, _compose, _rendered

MONITORING = DEPLOY / "monitoring"
# Imported for their metrics: each module registers its own on the default registry.
SERVICE_METRICS = ("cardreg_shared.metrics", "cardreg_registry.metrics", "cardreg_mailer.metrics")


def exposed_names() -> set[str]:
    import importlib

    for module in SERVICE_METRICS:
        importlib.import_module(module)
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type in ("counter",):
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}_{part}" for part in ("bucket", "count", "sum"))
    return names


def test_monitoring_profile_is_valid_and_scrapes_every_service():
    example = DEPLOY / ".env.example"
    checked = _compose("config", "-q", env_file=example, profiles=("monitoring",))
    assert checked.returncode == 0, checked.stderr
    services = _rendered(example, profiles=("monitoring",))
    assert {"prometheus", "grafana"} <= set(services)
    assert "prometheus" not in _rendered(example)  # only with the profile

    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: (job.get("metrics_path", "/metrics"), job["static_configs"][0]["targets"])
        for job in config["scrape_configs"]
    }
    for name in natsconfig.SERVICES:
        env = services[name]["environment"]
        port = env[f"CARDREG_{name.upper()}_METRICS_PORT"]
        assert env[f"CARDREG_{name.upper()}_METRICS_HOST"] == "0.0.0.0"
        assert targets[name] == ("/metrics", [f"{name}:{port}"])
        published = [p["target"] for p in services[name].get("ports", [])]
        assert int(port) not in published, "metrics stay on the compose network"
    for published in services["prometheus"]["ports"] + services["grafana"]["ports"]:
        assert published["host_ip"] == "127.0.0.1"


def test_dashboard_plots_only_metrics_the_services_expose():
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "cardreg.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(dashboard["panels"]) >= 10
    used = {name for expr in exprs for name in re.findall(r"\b((?:cardreg|process)_\w+)", expr)}
    missing = used - exposed_names()
    assert not missing, missing
    for wanted in (
        "cardreg_http_requests_total",
        "cardreg_bus_requests_total",
        "cardreg_logins_total",
        "cardreg_account_locks_total",
        "cardreg_argon2_waiting",
        "cardreg_outbox_backlog",
        "cardreg_outbox_lag_seconds",
        "cardreg_mails_total",
        "cardreg_jetstream_consumer_pending",
    ):
        assert wanted in used, wanted
    uid = dashboard["panels"][0]["datasource"]["uid"]
    source = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    assert source["datasources"][0]["uid"] == uid
