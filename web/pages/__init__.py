"""Every page route, one router per area."""

from __future__ import annotations

from web.core import page_router
from web.pages import auth, operations, planner, planner_jobs, records, registry

router = page_router()
for module in (auth, operations, registry, records, planner, planner_jobs):
    router.include_router(module.router)
