"""The phone pages as an installable web app: the service worker, served from the site's root so
its scope covers `/v` and `/w`, with the list of voice clips it keeps offline."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import Response

from web.core import page_router
from web.voice import CHIME, WORDS

router = page_router()
STATIC = Path(__file__).resolve().parents[1] / "static"


@cache
def service_worker() -> str:
    clips = [f"/static/clips/{key}.ogg" for key in (*WORDS, CHIME)]
    source = (STATIC / "phone" / "sw.js").read_text(encoding="utf-8")
    return source.replace("__CLIPS__", ",\n  ".join(json.dumps(c) for c in clips))


@router.get("/sw.js")
def worker() -> Response:
    return Response(
        service_worker(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
