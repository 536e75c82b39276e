"""Planner job rows: the adoption simulator run as a background job for a planner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from market.types import UTCDateTime, created_at_field

# ---------------------------------------------------------------------------------------------
# Simulation jobs (planners run the adoption simulator as a background job)


class SimulationJob(SQLModel, table=True):
    __tablename__ = "simulation_job"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(foreign_key="app_user.id", index=True)
    status: str = Field(default="queued", max_length=16)
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    runs_done: int = Field(default=0)
    runs_total: int
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
