"""Pages for people: server-rendered Jinja2 templates made interactive with a
vendored htmx 2, over the same `market/` services as the JSON API. `mount(app, ...)` adds them to
the FastAPI app; none of their routes are in the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.staticfiles import StaticFiles

from market.clock import Clock
from market.settings import Settings
from qr.board import font_path
from web.core import WebContext
from web.pages import router

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI, *, settings: Settings, engine: Engine, clock: Clock) -> None:
    """Serve the pages, their static files and the shipped Be Vietnam Pro font."""
    app.state.web = WebContext(settings=settings, engine=engine, clock=clock)
    app.mount("/static/fonts", StaticFiles(directory=font_path(False).parent), name="fonts")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
