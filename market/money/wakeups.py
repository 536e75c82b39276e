"""Waking open event feeds when a payment commits, instead of each feed polling the database.

A transaction that records an event marks its vendor in the session; when it commits:

- on PostgreSQL the event's insert has already queued `pg_notify('cho_events', '<vendor id>')`
  (sent by the server at commit, so only committed payments wake anyone), and one listener
  connection per process (a daemon thread, `LISTEN cho_events`) wakes that process's feeds of
  the vendor, whichever instance wrote the payment;
- on SQLite the committing process wakes its own feeds of the vendor directly.

A change to who may read feeds (a token revoked, a user or vendor changed or deactivated) wakes
every feed the same way (payload `*`), so each checks its token again and a revoked reader's
stream ends at once rather than at the next poll.

Feeds still poll as a safety net (a lost notification, a listener reconnecting, another process
on SQLite), and read by event id after their cursor, so an extra wake-up costs one empty read
and never a duplicate event."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import defaultdict
from typing import Any

import psycopg
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from market.registry.models import ApiToken, User, Vendor

log = logging.getLogger("cho.wakeups")

CHANNEL = "cho_events"
_PENDING = "cho_woken_vendors"  # session.info key: vendors whose events this transaction wrote
EVERYONE = "*"
ACCESS_ROWS = (ApiToken, User, Vendor)  # changed or deleted, they may end someone's feed
_NOTIFY_EVERYONE = text(f"SELECT pg_notify('{CHANNEL}', '{EVERYONE}')")
RECONNECT_SECONDS = 1.0


class Waiter:
    """One open feed's wake-up: `wait(timeout)` returns True when woken, False on timeout."""

    def __init__(self, hub: Hub, vendor_id: int) -> None:
        self.hub, self.vendor_id = hub, vendor_id
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def wake(self) -> None:
        """Thread-safe: wake the feed from the listener thread or any request thread."""
        try:
            self.loop.call_soon_threadsafe(self.event.set)
        except RuntimeError:  # its event loop has closed: the feed is gone
            self.close()

    async def wait(self, timeout: float) -> bool:
        """True once woken (the wake-up is then used up), False after `timeout`. A wake-up that
        lands as the timeout fires stays pending, so the next wait returns at once: clearing
        it there would lose it until the next poll."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        # cleared before the feed reads: a wake-up arriving after this point stays pending, so
        # its event is in that read or in the one after the next (immediate) wait
        self.event.clear()
        return True

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """The open feeds of this process by vendor, and (on PostgreSQL) the listener that wakes
    them; `listening` is False while the listener is down (feeds then poll every second)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # held weakly: a feed whose response never started (its reader left at once) is
        # forgotten with it rather than kept here for ever
        self.waiters: dict[int, weakref.WeakSet[Waiter]] = defaultdict(weakref.WeakSet)
        self.listeners: dict[str, Listener] = {}

    def subscribe(self, engine: Engine, vendor_id: int) -> Waiter:
        """A waiter for the vendor's next events (call from the feed's event loop)."""
        waiter = Waiter(self, vendor_id)
        with self.lock:
            self.waiters[vendor_id].add(waiter)
            if engine.dialect.name == "postgresql":
                key = engine.url.render_as_string(hide_password=False)
                if key not in self.listeners:
                    self.listeners[key] = Listener(self, key)
                    self.listeners[key].start()
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self.lock:
            waiters = self.waiters.get(waiter.vendor_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self.waiters[waiter.vendor_id]

    def wake(self, vendor_id: int | str) -> None:
        """Wake the feeds of a vendor, or all of them (`EVERYONE`)."""
        with self.lock:
            if vendor_id == EVERYONE:
                waiters = [w for group in self.waiters.values() for w in group]
            else:
                waiters = list(self.waiters.get(int(vendor_id), ()))
        for waiter in waiters:
            waiter.wake()

    def listening(self, engine: Engine) -> bool:
        """Whether commits on `engine` by any process reach this process's feeds."""
        if engine.dialect.name != "postgresql":
            return False
        listener = self.listeners.get(engine.url.render_as_string(hide_password=False))
        return listener is not None and listener.connected.is_set()

    def stop(self) -> None:
        with self.lock:
            listeners = list(self.listeners.values())
            self.listeners.clear()
        for listener in listeners:
            listener.stop()


class Listener:
    """A daemon thread holding one PostgreSQL connection in LISTEN; reconnects after a failure
    and then wakes every feed once, so what committed meanwhile is read at once."""

    def __init__(self, hub: Hub, url: str) -> None:
        self.hub = hub
        parsed = make_url(url).set(drivername="postgresql")
        self.dsn = parsed.render_as_string(hide_password=False)
        self.connected = threading.Event()
        self.reconnecting = False  # True once it has been connected
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cho-listen", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._listen()
            except Exception:  # whatever broke, the thread lives on and reconnects
                log.warning("event listener lost its connection; reconnecting", exc_info=True)
            self.connected.clear()
            self.stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            if self.reconnecting:  # what committed while it was away woke nobody: read now
                self.hub.wake(EVERYONE)
            self.connected.set()
            self.reconnecting = True
            while not self.stopping.is_set():
                for notice in connection.notifies(timeout=1.0):
                    self._wake(notice.payload)

    def _wake(self, payload: str) -> None:
        if payload != EVERYONE and not payload.isdigit():
            log.warning("ignoring a malformed %s payload: %r", CHANNEL, payload)
            return
        self.hub.wake(payload)


HUB = Hub()  # this process's feeds


def mark(session: Session, vendor_id: int) -> None:
    """Note that this transaction wrote an event for the vendor (woken after the commit)."""
    if session.get_bind().dialect.name != "postgresql":  # PostgreSQL wakes through NOTIFY
        session.info.setdefault(_PENDING, set()).add(vendor_id)


@event.listens_for(Session, "after_flush")
def _access_changed(session: Session, _context: Any) -> None:
    """A flush that changed or deleted a token, user or vendor wakes every feed at commit."""
    changed = (*session.dirty, *session.deleted)
    if not any(isinstance(row, ACCESS_ROWS) for row in changed):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_NOTIFY_EVERYONE)
    else:
        session.info.setdefault(_PENDING, set()).add(EVERYONE)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    for vendor_id in session.info.pop(_PENDING, ()):
        HUB.wake(vendor_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)
