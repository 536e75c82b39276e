"""Shared fixtures: a migrated database per backend (a real SQLite file, and the real PostgreSQL
named by TEST_DATABASE_URL), emptied before each test; the app on it; users and tokens per role.

PostgreSQL tests are skipped when TEST_DATABASE_URL is unset, unless CHO_REQUIRE_POSTGRES=1 (as
in CI), which turns the skip into a failure."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from api.app import create_app
from market.db import make_engine, upgrade
from market.registry import users as users_module
from market.registry.access import SYSTEM
from market.registry.models import (
    AssignmentCreate,
    Market,
    MarketCreate,
    PayoutAccountCreate,
    Role,
    StallCreate,
    User,
    UserMarket,
    VendorCreate,
    ZoneCreate,
)
from market.registry.users import hash_password, issue_token
from market.settings import Settings
from tests.live import drop_database, fresh_database

BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-9"

# Argon2 at its production cost takes ~90 ms per hash or check, and the suite logs in, opens
# wallets and checks PINs hundreds of times. In this test process passwords are hashed with
# the same algorithm at its lowest cost (the idea of Django's test password hasher); servers
# the tests start in their own processes keep the production cost.
users_module._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class FrozenClock:
    """A clock tests can move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A migrated database per backend for this test process."""
    urls: dict[str, str] = {}
    sqlite_path = Path(tmp_path_factory.mktemp("db")) / "cho-test.db"
    urls["sqlite"] = f"sqlite:///{sqlite_path}"
    upgrade(urls["sqlite"])
    admin_url = _postgres_admin_url()
    created_pg = None
    if admin_url:
        name = f"cho_test_{_worker()}_{os.getpid()}"
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        urls["postgresql"] = (
            make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        )
        upgrade(urls["postgresql"])
        created_pg = name
    yield urls
    if created_pg and admin_url:
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)'))
        admin.dispose()


def _require_backend(backend: str, urls: dict[str, str]) -> str:
    if backend in urls:
        return urls[backend]
    if os.environ.get("CHO_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            "PostgreSQL is required (CHO_REQUIRE_POSTGRES=1) but TEST_DATABASE_URL is unset"
        )
    pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")


_engines: dict[str, Engine] = {}


def empty_database(engine: Engine) -> None:
    """Empty every PostgreSQL table, keeping the migrated schema (TRUNCATE does not fire the
    ledger's row triggers)."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, database_urls: dict[str, str], tmp_path: Path) -> str:
    """SQLite: a fresh copy of the migrated template file; PostgreSQL: this process's database."""
    url = _require_backend(backend, database_urls)
    if backend == "sqlite":
        template = Path(make_url(url).database or "")
        copy = tmp_path / "test.db"
        shutil.copyfile(template, copy)
        return f"sqlite:///{copy}"
    return url


@pytest.fixture
def engine(db_url: str, backend: str) -> Iterator[Engine]:
    if backend == "sqlite":
        engine = make_engine(db_url)
        yield engine
        engine.dispose()
        return
    if db_url not in _engines:
        _engines[db_url] = make_engine(db_url)
    engine = _engines[db_url]
    empty_database(engine)
    yield engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # 17:00 in Vietnam


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # tests deliver webhooks by hand, to receivers on 127.0.0.1
    return Settings(
        DATABASE_URL=db_url,
        webhook_worker=False,
        webhook_allowed_hosts="127.0.0.1",
        data_dir=str(tmp_path / "data"),
    )


@pytest.fixture
def client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class World:
    """Two markets with a manager each, vendors with stalls and accounts, and tokens per role."""

    market_a: int
    market_b: int
    zone_a: int
    stall_a: int
    stall_b: int
    stall_vacant: int
    vendor_a: int
    vendor_a2: int
    vendor_b: int
    account_a: int
    account_b: int
    payment_a: int
    job: int
    tokens: dict[str, str]
    user_ids: dict[str, int]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _user(
    session: Session,
    username: str,
    role: Role,
    password_hash: str,
    *,
    market_id: int | None = None,
    vendor_id: int | None = None,
) -> User:
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        vendor_id=vendor_id,
        full_name=username,
    )
    session.add(user)
    session.flush()
    if market_id is not None:
        session.add(UserMarket(user_id=user.id or 0, market_id=market_id))
    return user


@pytest.fixture
def world(
    engine: Engine,
    backend: str,
    settings: Settings,
    clock: FrozenClock,
    password_hash: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    """The seeded world. On SQLite it is seeded once per test process into a template file
    (with its data folder) and copied under this test's engine, which is the same rows at a
    hundredth of the cost; PostgreSQL seeds it into its emptied database each time."""
    if backend != "sqlite":
        return _seed_world(engine, settings, clock(), password_hash)
    key = (clock(), settings.token_ttl)
    if key not in _world_templates:
        folder = tmp_path_factory.mktemp("world")
        template_url = f"sqlite:///{folder / 'world.db'}"
        shutil.copyfile(make_url(str(engine.url)).database or "", folder / "world.db")
        template = make_engine(template_url)
        seeded = _seed_world(
            template,
            settings.model_copy(update={"data_dir": str(folder / "data")}),
            clock(),
            password_hash,
        )
        template.dispose()
        _world_templates[key] = (folder, seeded)
    folder, seeded = _world_templates[key]
    database = Path(make_url(str(engine.url)).database or "")
    engine.dispose()
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(folder / "world.db", database)
    shutil.copytree(folder / "data", settings.data_dir, dirs_exist_ok=True)
    return replace(seeded, tokens=dict(seeded.tokens), user_ids=dict(seeded.user_ids))


_world_templates: dict[tuple[datetime, object], tuple[Path, World]] = {}


def _seed_world(engine: Engine, settings: Settings, now: datetime, password_hash: str) -> World:
    from market.registry import markets, payouts, stalls, vendors

    with Session(engine, expire_on_commit=False) as s:
        a = markets.create_market(
            s,
            actor=SYSTEM,
            data=MarketCreate(
                code="mau-a", name="Chợ Mậu A", district="Văn Yên", province="Yên Bái"
            ),
        )
        b = markets.create_market(
            s,
            actor=SYSTEM,
            data=MarketCreate(code="yen-bai", name="Chợ Yên Bái", province="Yên Bái"),
        )
        zone = markets.create_zone(
            s, actor=SYSTEM, market_id=a.id or 0, data=ZoneCreate(code="B", name="Khu B")
        )
        stall_a = stalls.create_stall(
            s, actor=SYSTEM, market_id=a.id or 0, data=StallCreate(code="B-12", zone_id=zone.id)
        )
        stall_b = stalls.create_stall(
            s, actor=SYSTEM, market_id=b.id or 0, data=StallCreate(code="A-01")
        )
        stall_vacant = stalls.create_stall(
            s, actor=SYSTEM, market_id=a.id or 0, data=StallCreate(code="B-14", zone_id=zone.id)
        )
        vendor_a = vendors.create_vendor(
            s,
            actor=SYSTEM,
            market_id=a.id or 0,
            data=VendorCreate(
                full_name="Nguyễn Thị Hường", phone="0912345678", national_id="015123456789"
            ),
        )
        vendor_a2 = vendors.create_vendor(
            s,
            actor=SYSTEM,
            market_id=a.id or 0,
            data=VendorCreate(full_name="Trần Văn Dũng", phone="0987654321"),
        )
        vendor_b = vendors.create_vendor(
            s,
            actor=SYSTEM,
            market_id=b.id or 0,
            data=VendorCreate(full_name="Lê Thị Lan", phone="0971112233"),
        )
        stalls.assign_vendor(
            s,
            actor=SYSTEM,
            stall_id=stall_a.id or 0,
            data=AssignmentCreate(vendor_id=vendor_a.id or 0),
        )
        stalls.assign_vendor(
            s,
            actor=SYSTEM,
            stall_id=stall_b.id or 0,
            data=AssignmentCreate(vendor_id=vendor_b.id or 0),
        )
        account_a = payouts.add_account(
            s,
            actor=SYSTEM,
            vendor_id=vendor_a.id or 0,
            data=PayoutAccountCreate(bin="971005", account_number="0912345678"),
        )
        account_b = payouts.add_account(
            s,
            actor=SYSTEM,
            vendor_id=vendor_b.id or 0,
            data=PayoutAccountCreate(bin="970405", account_number="1234567890123"),
        )
        users = {
            "admin": _user(s, "admin", Role.ADMIN, password_hash),
            "manager": _user(s, "manager.a", Role.MANAGER, password_hash, market_id=a.id),
            "manager_b": _user(s, "manager.b", Role.MANAGER, password_hash, market_id=b.id),
            "vendor": _user(s, "vendor.a", Role.VENDOR, password_hash, vendor_id=vendor_a.id),
            "vendor_b": _user(s, "vendor.b", Role.VENDOR, password_hash, vendor_id=vendor_b.id),
            "planner": _user(s, "planner", Role.PLANNER, password_hash),
            "shopper": _user(s, "shopper", Role.SHOPPER, password_hash),
        }
        users["shopper"].phone = "+84901111111"
        s.add(users["shopper"])
        s.flush()
        payment = seed_payment(
            s, users["shopper"].id or 0, users["shopper"].phone or "", stall_a.id or 0, now
        )
        job = _seed_simulation(s, users["planner"].id or 0, settings.data_dir)
        tokens = {
            who: issue_token(s, user=user, settings=settings, now=now)[0]
            for who, user in users.items()
        }
        s.commit()
        return World(
            market_a=a.id or 0,
            market_b=b.id or 0,
            zone_a=zone.id or 0,
            stall_a=stall_a.id or 0,
            stall_b=stall_b.id or 0,
            stall_vacant=stall_vacant.id or 0,
            vendor_a=vendor_a.id or 0,
            vendor_a2=vendor_a2.id or 0,
            vendor_b=vendor_b.id or 0,
            account_a=account_a.id or 0,
            account_b=account_b.id or 0,
            payment_a=payment,
            job=job,
            tokens=tokens,
            user_ids={who: u.id or 0 for who, u in users.items()},
        )


def _seed_simulation(session: Session, planner_id: int, data_dir: str) -> int:
    """A finished simulation of the planner's, with its summary on disk."""
    from market.jobs import SimulationJob

    job = SimulationJob(
        created_by=planner_id,
        status="done",
        request={"scenario": "baseline"},
        runs_total=1,
        runs_done=1,
    )
    session.add(job)
    session.flush()
    folder = Path(data_dir) / "simulations" / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text('{"seed": 1}', encoding="utf-8")
    return job.id or 0


def seed_payment(session: Session, user_id: int, phone: str, stall_id: int, now: datetime) -> int:
    """The shopper tops up 1,000,000 ₫ and pays 100,000 ₫ at stall A."""
    from market.money import ledger, payments, wallets
    from market.registry import boards
    from market.registry.access import Actor

    wallet = ledger.shopper_wallet(session, user_id)
    wallets.top_up(session, wallet=wallet, amount=1_000_000, now=now)
    board = boards.live_board(session, stall_id)
    assert board is not None
    shopper = Actor(user_id=user_id, username="shopper", role=Role.SHOPPER, phone=phone)
    paid = payments.pay_by_qr(
        session, actor=shopper, wallet=wallet, payload=board.payload, amount=100_000, now=now
    )
    return paid.id or 0


def count_rows(engine: Engine, model: type[SQLModel]) -> int:
    """How many rows a table has (to prove a refused request changed nothing)."""
    from sqlalchemy import func
    from sqlmodel import select

    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def snapshot_database(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to compare before and after a refused request."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


@pytest.fixture
def live_url(backend: str, tmp_path: Path, database_urls: dict[str, str]) -> Iterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if backend == "postgresql" and "postgresql" not in database_urls:
        if os.environ.get("CHO_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL required")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = f"cho_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = fresh_database(backend, tmp_path, admin_url, name)
    yield url
    if backend == "postgresql" and admin_url:
        drop_database(admin_url, name)


__all__ = ["PASSWORD", "FrozenClock", "Market", "World", "count_rows", "snapshot_database"]
