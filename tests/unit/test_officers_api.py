"""The simulator's HTTP side over `httpx.MockTransport`: one token per official from the issuer,
renewed before it expires or when refused; retries while a service restarts; answers that
were not the expected one counted and described without the citizen's data."""

from __future__ import annotations

from collections import Counter

import httpx

from infra.casework import Verdict
from infra.platform_api import PlatformApi, Tally, detail_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Platform:
    """An issuer counting tokens per user, and a routing that may refuse a token or be restarting."""

    def __init__(self) -> None:
        self.issued: Counter[str] = Counter()
        self.refuse: set[str] = set()  # tokens routing no longer accepts
        self.unavailable = 0  # answers of 503 before routing is back
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "issuer":
            username = dict(x.split("=") for x in request.content.decode().split("&"))["username"]
            self.issued[username] += 1
            return httpx.Response(200, json={"access_token": f"{username}#{self.issued[username]}", "expires_in": 3600})
        if self.unavailable:
            self.unavailable -= 1
            return httpx.Response(503, json={"detail": "not ready"})
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.seen.append(token)
        if token in self.refuse:
            return httpx.Response(401, json={"detail": "token expired"})
        return httpx.Response(200, json={"ok": True})


def api(platform: Platform, clock: Clock) -> PlatformApi:
    client = httpx.AsyncClient(transport=httpx.MockTransport(platform))
    return PlatformApi(client, "http://routing", "http://intake", "http://issuer", clock=clock)


async def test_each_official_gets_one_token_kept_until_shortly_before_it_expires() -> None:
    platform, clock = Platform(), Clock()
    officials = api(platform, clock)
    for _ in range(3):
        await officials.routing("h40101.tiepnhan1", "GET", "/queue")
    await officials.routing("h40101.chutich", "GET", "/queue")
    assert platform.issued == {"h40101.tiepnhan1": 1, "h40101.chutich": 1}

    clock.now += 3600 - 299  # less than five minutes left
    await officials.routing("h40101.tiepnhan1", "GET", "/queue")
    assert platform.issued["h40101.tiepnhan1"] == 2
    assert platform.seen[-1] == "h40101.tiepnhan1#2"


async def test_a_refused_token_is_renewed_once() -> None:
    platform, clock = Platform(), Clock()
    officials = api(platform, clock)
    platform.refuse.add("h40101.hotich#1")
    response = await officials.routing("h40101.hotich", "POST", "/dossiers/X/forward")
    assert response.status_code == 200
    assert platform.seen == ["h40101.hotich#1", "h40101.hotich#2"]


async def test_a_restarting_service_is_retried_until_it_answers() -> None:
    platform, clock = Platform(), Clock()
    platform.unavailable = 2
    response = await api(platform, clock).routing("h40101.hotich", "GET", "/queue")
    assert response.status_code == 200 and platform.unavailable == 0


def test_validation_errors_are_described_without_the_values_sent() -> None:
    body = {"detail": [{"loc": ["body", "owner"], "msg": "String too short", "input": "0912345678"}]}
    described = detail_of(httpx.Response(422, json=body))
    assert described == "body.owner: String too short" and "0912345678" not in described
    assert detail_of(httpx.Response(422, json={"detail": {"message": "cannot be accepted", "problems": []}})) == (
        "cannot be accepted"
    )


def test_the_tally_counts_actions_and_describes_only_unexpected_answers() -> None:
    tally = Tally()
    tally.count("claim", Verdict.DONE, "C1")
    tally.count("claim", Verdict.HELD, "C2", httpx.Response(409, json={"detail": "already held by x"}))
    tally.count("approval", Verdict.UNEXPECTED, "C3", httpx.Response(403, json={"detail": "only a leader approves"}))
    assert tally.actions == {"claim": 1} and tally.taken == 1
    assert tally.outcomes == {"claim: already held": 1, "approval: unexpected": 1}
    assert tally.problems == ["approval C3: HTTP 403 only a leader approves"]
