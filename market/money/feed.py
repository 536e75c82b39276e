"""A vendor's live payment feed as Server-Sent Events frames, for any front end (the API's
`GET /vendors/{id}/events`, a page's soundbox): send what is there, then wait to be woken by a
commit (`wakeups`) or for the safety-net poll, read the events after the cursor and send them,
until the reader leaves or may no longer read. Each event is sent once: only ids above the
cursor are read, however often the feed is woken."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import Engine

from market.errors import DomainError
from market.money import wakeups
from market.settings import Settings

Batch = list[tuple[int, str, dict[str, object]]]  # (event id, type, body) oldest first
Read = Callable[[int], Awaitable[Batch]]  # the events after a cursor; raises DomainError once
# the reader may no longer read them (run off the event loop by the caller: a thread pool)
KEEP_ALIVE_SECONDS = 15.0


def frame(event_id: int, kind: str, data: dict[str, object]) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def follow(
    engine: Engine,
    settings: Settings,
    waiter: wakeups.Waiter | None,
    read: Read,
    cursor: int,
    batch: Batch,
) -> AsyncIterator[str]:
    """The frames of `batch`, then (with a `waiter`, from `wakeups.HUB.subscribe`) the frames
    of each later event as it commits, with a comment line as keep-alive after 15 quiet
    seconds. Ends when `read` raises `DomainError`; closes the waiter when it ends."""
    last_read = last_frame = time.monotonic()
    try:
        while True:
            for event_id, kind, body in batch:
                cursor = event_id
                yield frame(event_id, kind, body)
                last_frame = time.monotonic()
            if waiter is None:
                return
            poll = (
                settings.feed_poll_seconds
                if wakeups.HUB.listening(engine)
                else settings.feed_fallback_poll_seconds
            )
            woken = await waiter.wait(min(poll, KEEP_ALIVE_SECONDS))
            now = time.monotonic()
            if now - last_frame >= KEEP_ALIVE_SECONDS:
                last_frame = now
                yield ": keep-alive\n\n"
            batch = []
            if woken or now - last_read >= poll:
                last_read = now
                try:
                    batch = await read(cursor)
                except DomainError:
                    return  # the caller may no longer read this feed
    finally:
        if waiter is not None:
            waiter.close()
