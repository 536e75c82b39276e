"""Login, token expiry and revocation, and login throttling (per user and per client)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, FrozenClock, World
from tests.live import Server


def test_login_gives_a_token_that_works(client: TestClient, world: World) -> None:
    response = client.post("/auth/token", data={"username": "manager.a", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "manager"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "manager.a"
    assert me.json()["market_ids"] == [world.market_a]


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, world: World) -> None:
    wrong = client.post("/auth/token", data={"username": "manager.a", "password": "nope-nope"})
    unknown = client.post("/auth/token", data={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid-credentials"
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_repeated_failures_slow_down_then_lock(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    def attempt(password: str) -> httpx.Response:
        return client.post("/auth/token", data={"username": "planner", "password": password})

    for _ in range(3):  # the first failures are answered at once
        assert attempt("bad-password").status_code == 401
    throttled = attempt("bad-password")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "login-throttled"
    assert int(throttled.headers["retry-after"]) >= 1
    # even the right password is refused while throttled
    assert attempt(PASSWORD).status_code == 429
    for _ in range(5):  # wait out each delay, fail again: the delay doubles, then the lock
        clock.now += timedelta(seconds=60)
        attempt("bad-password")
    clock.now += timedelta(seconds=60)
    locked = attempt("bad-password")
    assert locked.status_code == 429
    assert locked.json()["code"] == "login-locked"
    assert attempt(PASSWORD).json()["code"] == "login-locked"
    clock.now += timedelta(minutes=16)
    assert attempt(PASSWORD).status_code == 200


def test_throttling_per_client_covers_other_usernames(client: TestClient, world: World) -> None:
    for name in ["a1", "a2", "a3"]:
        assert (
            client.post("/auth/token", data={"username": name, "password": "x"}).status_code == 401
        )
    # a fourth username from the same client is slowed down too
    response = client.post("/auth/token", data={"username": "shopper", "password": PASSWORD})
    assert response.status_code == 429


def test_tokens_expire(client: TestClient, world: World, clock: FrozenClock) -> None:
    headers = world.headers("manager")
    assert client.get("/auth/me", headers=headers).status_code == 200
    clock.now += timedelta(hours=13)
    expired = client.get("/auth/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["code"] == "unauthenticated"


def test_logout_revokes_the_token(client: TestClient, world: World) -> None:
    headers = world.headers("vendor")
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_admin_revokes_and_deactivation_revokes(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    result = client.post(f"/users/{world.user_ids['planner']}/revoke-tokens", headers=admin).json()
    assert result["revoked"] == 1
    assert client.get("/auth/me", headers=world.headers("planner")).status_code == 401
    client.delete(f"/users/{world.user_ids['shopper']}", headers=admin)
    assert client.get("/auth/me", headers=world.headers("shopper")).status_code == 401
    again = client.post("/auth/token", data={"username": "shopper", "password": PASSWORD})
    assert again.status_code == 401


def test_a_password_change_by_the_admin_revokes_the_users_tokens(
    client: TestClient, world: World
) -> None:
    second = client.post("/auth/token", data={"username": "planner", "password": PASSWORD})
    old_tokens = [
        world.headers("planner"),
        {"Authorization": f"Bearer {second.json()['access_token']}"},
    ]
    for headers in old_tokens:
        assert client.get("/auth/me", headers=headers).status_code == 200
    response = client.patch(
        f"/users/{world.user_ids['planner']}",
        headers=world.headers("admin"),
        json={"password": "a-new-password-7"},
    )
    assert response.status_code == 200, response.text
    for headers in old_tokens:
        assert client.get("/auth/me", headers=headers).status_code == 401
    old = client.post("/auth/token", data={"username": "planner", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/auth/token", data={"username": "planner", "password": "a-new-password-7"})
    assert new.status_code == 200
    fresh = {"Authorization": f"Bearer {new.json()['access_token']}"}
    assert client.get("/auth/me", headers=fresh).json()["username"] == "planner"
    # a change that is not the password leaves the tokens alone
    client.patch(
        f"/users/{world.user_ids['planner']}",
        headers=world.headers("admin"),
        json={"full_name": "Kế hoạch"},
    )
    assert client.get("/auth/me", headers=fresh).status_code == 200
    assert client.get("/auth/me", headers=world.headers("admin")).status_code == 200


def test_garbage_tokens_are_refused(client: TestClient, world: World) -> None:
    for value in ["Bearer nonsense", "Bearer ", "Basic abc", world.tokens["admin"]]:
        response = client.get("/markets", headers={"Authorization": value})
        assert response.status_code == 401, value


def test_admin_creates_users_with_checked_links(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    ok = client.post(
        "/users",
        headers=admin,
        json={
            "username": "ql.yenbai",
            "password": "long-enough-1",
            "role": "manager",
            "market_ids": [world.market_b],
        },
    )
    assert ok.status_code == 201
    assert ok.json()["market_ids"] == [world.market_b]
    bad = client.post(
        "/users",
        headers=admin,
        json={"username": "ql.none", "password": "long-enough-1", "role": "manager"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "market_ids"
    bad = client.post(
        "/users",
        headers=admin,
        json={
            "username": "tt.none",
            "password": "long-enough-1",
            "role": "vendor",
            "vendor_id": 999,
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "vendor_id"
    dup = client.post(
        "/users",
        headers=admin,
        json={"username": "planner", "password": "long-enough-1", "role": "planner"},
    )
    assert dup.status_code == 409
    login = client.post("/auth/token", data={"username": "ql.yenbai", "password": "long-enough-1"})
    assert login.status_code == 200


def _failed_logins(base: str, client: str, names: list[str]) -> list[int]:
    """Statuses of wrong-password sign-ins for `names`, each as forwarded for `client` by a
    proxy (a header only: nothing is sent to that address)."""
    return [
        httpx.post(
            f"{base}/auth/token",
            data={"username": name, "password": "not-the-password"},
            headers={"X-Forwarded-For": client},
            timeout=30,
        ).status_code
        for name in names
    ]


# two failures lock a client for 15 minutes; each sign-in names another user, so only the
# client's own count can lock it
LOCK_AFTER_TWO = {"CHO_LOGIN_FREE_FAILURES": "2", "CHO_LOGIN_LOCK_FAILURES": "2"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(
    live_url: str, tmp_path: Path
) -> None:
    server = Server(
        live_url,
        tmp_path / "server.log",
        workers=1,
        env=LOCK_AFTER_TWO | {"CHO_TRUSTED_PROXIES": "127.0.0.1"},
    )
    server.start()
    try:
        assert _failed_logins(server.base, "198.51.100.7", ["an", "binh", "chi"]) == [
            401,
            401,
            429,
        ]
        assert _failed_logins(server.base, "198.51.100.8", ["dung"]) == [401]  # another client
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    live_url: str, tmp_path: Path
) -> None:
    server = Server(live_url, tmp_path / "server.log", workers=1, env=LOCK_AFTER_TWO)
    server.start()
    try:
        assert _failed_logins(server.base, "198.51.100.7", ["an", "binh"]) == [401, 401]
        # claiming to be another client changes nothing: the peer itself is locked
        assert _failed_logins(server.base, "198.51.100.8", ["chi"]) == [429]
    finally:
        server.stop()
