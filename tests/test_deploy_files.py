"""Dockerfile and compose.yaml, checked against the code (no Docker engine here): the compose file
runs the service on PostgreSQL with health checks and volumes, every variable it sets is a setting
the service reads, and the image copies every package and starts the way the README says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from market.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return document


def _known_variables() -> set[str]:
    names = {"DATABASE_URL"}
    for name, field in Settings.model_fields.items():
        if field.validation_alias is None:
            names.add(f"CHO_{name.upper()}")
    return names


def test_compose_runs_the_service_on_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"api", "db", "worker"}
    db, api = services["db"], services["api"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    url = api["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://")
    assert "@db:5432/" in url
    assert api["build"] == "."
    assert "127.0.0.1:8000:8000" in api["ports"]
    assert "/health" in " ".join(api["healthcheck"]["test"])
    worker = services["worker"]  # the planners' jobs run there, on the same database and files
    assert worker["command"] == ["cho", "worker"]
    assert worker["environment"]["DATABASE_URL"] == url
    assert worker["environment"]["CHO_DATA_DIR"] == api["environment"]["CHO_DATA_DIR"]


def test_compose_keeps_its_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    mounts = {
        service: [v.split(":")[0] for v in spec.get("volumes", [])]
        for service, spec in compose["services"].items()
    }
    assert mounts["db"] == ["pgdata"]
    assert mounts["api"] == ["files"]
    assert mounts["worker"] == ["files"]
    assert {m for ms in mounts.values() for m in ms} <= declared


def test_compose_sets_only_variables_the_service_reads(compose: dict[str, Any]) -> None:
    environment = compose["services"]["api"]["environment"]
    assert set(environment) <= _known_variables()
    assert {"CHO_ADMIN_USERNAME", "CHO_ADMIN_PASSWORD"} <= set(environment)
    # no admin password in the file: it must come from the environment
    assert environment["CHO_ADMIN_PASSWORD"].startswith("${CHO_ADMIN_PASSWORD:?")


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_copies_every_package() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["packages"]
    top = {p.split(".")[0] for p in packages}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", _dockerfile(), flags=re.MULTILINE))
    assert top == copied


def test_the_image_migrates_serves_and_checks_health() -> None:
    text = _dockerfile()
    env = dict(re.findall(r"(\w+)=(\S+)", text.split("ENV", 1)[1].split("RUN", 1)[0]))
    assert {k for k in env if k.startswith("CHO_") or k == "DATABASE_URL"} <= _known_variables()
    assert "EXPOSE 8000" in text
    assert "USER cho" in text
    command = text.split("CMD [", 2)[-1]
    assert "cho db upgrade && cho serve --host 0.0.0.0 --port 8000" in command
    assert "http://127.0.0.1:8000/health" in text


def test_the_readme_documents_docker() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Docker" in readme
    for needle in ("docker compose up", "CHO_ADMIN_USERNAME", "CHO_ADMIN_PASSWORD", "compose.yaml"):
        assert needle in readme
    for variable in _known_variables():
        assert f"`{variable}`" in readme, f"{variable} missing from README's Configuration"


# ---------------------------------------------------------------------------------------------
# compose.scale.yaml and deploy/nginx.conf: two replicas behind a reverse proxy, one PostgreSQL


@pytest.fixture(scope="module")
def scaled() -> dict[str, Any]:
    text = (ROOT / "compose.scale.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")


def test_scaled_compose_runs_two_replicas_on_one_postgresql(scaled: dict[str, Any]) -> None:
    services = scaled["services"]
    assert set(services) == {"db", "migrate", "api-1", "api-2", "worker", "proxy"}
    replicas = [services["api-1"], services["api-2"]]
    urls = {replica["environment"]["DATABASE_URL"] for replica in replicas}
    assert urls == {services["migrate"]["environment"]["DATABASE_URL"]}  # one database
    assert next(iter(urls)).startswith("postgresql+psycopg://")
    assert "@db:5432/" in next(iter(urls))
    assert services["migrate"]["command"] == ["cho", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for replica in replicas:
        # migrated once before either starts; no replica migrates on its own
        assert replica["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert replica["command"][:2] == ["cho", "serve"]
        assert "/health" in " ".join(replica["healthcheck"]["test"])
        assert "ports" not in replica  # reached only through the proxy
        assert set(replica["environment"]) <= _known_variables()
    assert "CHO_ADMIN_PASSWORD" in services["api-1"]["environment"]
    assert "CHO_ADMIN_PASSWORD" not in services["api-2"]["environment"]
    worker = services["worker"]  # the planners' jobs, on the same database and files
    assert worker["command"] == ["cho", "worker"]
    assert worker["environment"]["DATABASE_URL"] in urls
    assert {r["environment"]["CHO_DATA_DIR"] for r in replicas} == {
        worker["environment"]["CHO_DATA_DIR"]
    }
    assert [v.split(":")[0] for v in worker["volumes"]] == ["files"]
    assert set(scaled["volumes"]) == {"pgdata", "files"}
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["127.0.0.1:8000:80"]
    assert proxy["depends_on"] == {
        "api-1": {"condition": "service_healthy"},
        "api-2": {"condition": "service_healthy"},
    }
    mount = proxy["volumes"][0].split(":")
    assert (ROOT / mount[0]).resolve() == (ROOT / "deploy" / "nginx.conf").resolve()
    assert mount[2] == "ro"


def test_the_proxy_names_both_replicas_and_streams_feeds_unbuffered() -> None:
    config = _nginx()
    upstream = re.search(r"upstream cho \{(.*?)\}", config, flags=re.DOTALL)
    assert upstream is not None
    assert set(re.findall(r"server (api-\d):8000", upstream.group(1))) == {"api-1", "api-2"}
    feed = re.search(r"location ~ (\S+) \{(.*?)\}", config, flags=re.DOTALL)
    assert feed is not None, "no location for the live feeds"
    pattern = re.compile(feed.group(1))
    assert pattern.search("/vendors/12/events")  # the API's feed, as routed
    assert not pattern.search("/vendors/12/webhooks")
    assert not pattern.search("/wallets/me/payments")
    assert "proxy_buffering off;" in feed.group(2)
    assert "proxy_read_timeout 1h;" in feed.group(2)
    assert "proxy_pass http://cho;" in feed.group(2)
    assert "proxy_http_version 1.1;" in config
    assert re.search(r"location / \{\s*proxy_pass http://cho;", config)
