"""`cho simulate observed`: the observed points of one market fetched from a running Chợ 4.0
service over HTTP (GET /simulations/observed, as a planner or admin), written as the CSV that
`cho simulate calibrate --observed` reads (date, day, metric, value, sd, window). The sd is the
noise a planner assumes for each count: Poisson-like, √value, at least 1."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import Any

import httpx


def fetch_observed(
    base_url: str, *, username: str, password: str, market_id: int, start: date, end: date
) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        login = client.post("/auth/token", data={"username": username, "password": password})
        if login.status_code != 200:
            raise RuntimeError(f"login refused ({login.status_code}): {login.text[:200]}")
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        response = client.get(
            "/simulations/observed",
            headers=headers,
            params={"market_id": market_id, "start": start.isoformat(), "end": end.isoformat()},
        )
        if response.status_code != 200:
            raise RuntimeError(f"refused ({response.status_code}): {response.text[:300]}")
        rows: list[dict[str, Any]] = response.json()
        return rows


def write_observed(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "day", "metric", "value", "sd", "window"])
        for row in rows:
            sd = max(math.sqrt(row["value"]), 1.0)
            writer.writerow(
                [row["date"], row["day"], row["metric"], f"{row['value']:g}", f"{sd:.3g}",
                 row["window"]]
            )  # fmt: skip
