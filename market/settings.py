"""Settings read from the environment once, at start-up, and passed along explicitly."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one running service (environment variables prefixed `CHO_`, plus
    `DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_prefix="CHO_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./cho.db",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; PostgreSQL is postgresql+psycopg://user@host/db",
    )
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    login_free_failures: int = Field(default=3, ge=1, description="failures before slowing down")
    login_lock_failures: int = Field(default=8, ge=2, description="failures before a lock")
    login_lock_minutes: int = Field(default=15, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    webhook_worker: bool = Field(default=True, description="deliver webhooks in the background")
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_allowed_hosts: str = Field(
        default="",
        max_length=2000,
        description="comma-separated hosts webhooks may target although private (e.g. 127.0.0.1)",
    )
    feed_poll_seconds: float = Field(
        default=15.0,
        gt=0,
        description="how often an open event feed re-reads the database although no commit woke "
        "it, while PostgreSQL LISTEN/NOTIFY wakes feeds (the safety net)",
    )
    feed_fallback_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="the same on SQLite (a commit wakes only its own process's feeds) and while "
        "the PostgreSQL listener reconnects",
    )
    data_dir: str = Field(default="./cho-data", description="simulation outputs and other files")
    planner_job_quota: int = Field(
        default=3, ge=1, le=100, description="jobs a planner may have queued or running at once"
    )
    worker_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a job whose `cho worker` sends no heartbeat for this long is claimed again",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often an idle `cho worker` looks for a job"
    )
    dask_scheduler: str | None = Field(
        default=None,
        max_length=200,
        description="Dask scheduler address (tcp://host:8786): sweeps run on that cluster",
    )
    money_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="threads per worker process running money requests: enough to overlap their "
        "database round trips; more only contend for the interpreter's lock",
    )
    access_log: bool = Field(
        default=True,
        description="log every request (turn off behind a reverse proxy that logs them: it costs "
        "the service about a twentieth of its CPU per payment)",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=1000,
        description="addresses or networks (comma-separated; `*` for any) of the reverse proxies "
        "whose X-Forwarded-For and X-Forwarded-Proto headers name the real client and scheme, "
        "for login throttling per client and secure cookies; empty: those headers are ignored",
    )
    worker_healthcheck_timeout: int = Field(
        default=60,
        ge=1,
        description="seconds uvicorn waits for a busy worker to answer its health check before "
        "killing it (uvicorn's own default, 5, kills workers on a loaded machine)",
    )
    admin_username: str | None = Field(
        default=None,
        description="`cho serve` creates this admin at start unless a user of that name exists",
    )
    admin_password: SecretStr | None = Field(
        default=None, description="the first admin's password (never printed or logged)"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"'{entry}' không phải địa chỉ hay mạng IP (not an IP address or network;"
                    " e.g. 10.0.0.5, 172.18.0.0/16 or *)"
                ) from None
        return ",".join(entries)

    @property
    def webhook_allowed(self) -> frozenset[str]:
        return frozenset(
            h.strip().lower() for h in self.webhook_allowed_hosts.split(",") if h.strip()
        )

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.token_ttl_minutes)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import)."""
    return Settings()
