"""Every page route, one router per area."""

from __future__ import annotations

from web.core import page_router
from web.pages import auth, install, operations, records, registry, shopper, vendor

router = page_router()
for module in (auth, operations, registry, records, vendor, shopper, install):
    router.include_router(module.router)
