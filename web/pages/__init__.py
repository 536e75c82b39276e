"""Every page route, one router per area."""

from __future__ import annotations

from web.core import page_router
from web.pages import (
    auth,
    install,
    operations,
    planner,
    planner_jobs,
    records,
    registry,
    shopper,
    vendor,
)

router = page_router()
PAGES = (auth, operations, registry, records, planner, planner_jobs, vendor, shopper, install)
for module in PAGES:
    router.include_router(module.router)
