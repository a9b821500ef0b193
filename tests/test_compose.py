"""Tests for docker-compose.yml and .env.example: the production shape stays coherent."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_it_has_every_service() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "receiver", "mailpit"} <= set(services)


def test_it_runs_web_worker_and_beat_from_one_image() -> None:
    services = compose()["services"]
    app = [services[name] for name in ("web", "worker", "beat", "migrate")]
    assert {service["image"] for service in app} == {"secmail:latest"}
    assert {service["build"] for service in app} == {"."}
    assert (ROOT / "Dockerfile").is_file()


def test_it_gives_each_service_its_job() -> None:
    services = compose()["services"]
    assert services["web"]["command"][0] == "gunicorn"
    worker = " ".join(services["worker"]["command"])
    assert "worker" in worker and "probe,default" in worker
    assert "beat" in services["beat"]["command"]
    receiver = services["receiver"]
    assert receiver["command"][-1] == "receive_mail"
    assert "25:25" in receiver["ports"]
    assert receiver["environment"]["SECMAIL_RECEIVER_LISTEN"] == "0.0.0.0:25"


def test_it_checks_health_and_keeps_data_in_named_volumes() -> None:
    data = compose()
    services = data["services"]
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert "healthcheck" in services[name], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert {"postgres-data", "redis-data"} <= set(data["volumes"])
    assert services["postgres"]["volumes"][0].startswith("postgres-data:")


def test_it_reads_settings_from_an_env_file_that_ships_without_secrets() -> None:
    services = compose()["services"]
    assert services["web"]["env_file"] == ".env"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "0"
    # A placeholder that says so (long enough for `check --deploy`, see tests/security).
    assert values["SECRET_KEY"].startswith("replace-me-")
    assert "POSTGRES_PASSWORD" in values


def test_it_publishes_gunicorn_to_the_proxy_only_and_trusts_only_the_proxy() -> None:
    web = compose()["services"]["web"]
    assert all(str(port).startswith("127.0.0.1:") for port in web["ports"])
    assert "proxy" in web["networks"]
    assert "*" not in " ".join(web["command"])
    assert "--forwarded-allow-ips" not in web["command"]
    assert web["environment"]["FORWARDED_ALLOW_IPS"] == "${SECMAIL_TRUSTED_PROXIES:-127.0.0.1}"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '"--forwarded-allow-ips", "*"' not in dockerfile
