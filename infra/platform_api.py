"""The platform's public HTTP interfaces as an outside party uses them: routing's officer API,
signing's and digitisation's, with officials' tokens from the identity provider, intake's citizen API, a bounded number of
requests in flight, and a tally of every answer that was not the expected one."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime.retry import backoff

from .casework import Verdict

log = logging.getLogger("motcua.officers")
TOKEN_LIFETIME_S = 3600
RENEW_BEFORE_S = 300  # a token this close to expiry is renewed before use
UNAVAILABLE_PATIENCE_S = 120.0  # transport errors and 5xx answers (a service restarting) are retried this long
PROBLEMS_KEPT = 50
RETRY_PAUSE_S, RETRY_PAUSE_CAP_S = 0.25, 4.0  # pauses between attempts at a service that is away


def detail_of(response: httpx.Response) -> str:
    """The service's message, without echoing the request back (validation errors carry
    the submitted values, which may be a citizen's personal data)."""
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):  # FastAPI validation errors: where and what, never the input
        return "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e.get('msg', '')}" for e in detail)[:300]
    if isinstance(detail, dict):
        return str(detail.get("message", ""))[:300]
    return str(detail)[:300]


@dataclass
class Tally:
    """What the simulated officials and citizens did, and every answer that was not the expected one."""

    actions: Counter[str] = field(default_factory=Counter)  # officer actions taken: claim, forward, ...
    outcomes: Counter[str] = field(default_factory=Counter)  # "<action>: <verdict>" other than done
    problems: list[str] = field(default_factory=list)  # the unexpected ones, described
    supplements_answered: int = 0
    approvals_waited: int = 0

    def count(self, action: str, verdict: Verdict, code: str, response: httpx.Response | None = None) -> None:
        if verdict is Verdict.DONE:
            self.actions[action] += 1
            return
        self.outcomes[f"{action}: {verdict.value}"] += 1
        if verdict is Verdict.UNEXPECTED:
            self.problem(
                f"{action} {code}: HTTP {response.status_code} {detail_of(response)}"
                if response
                else f"{action} {code}"
            )

    def problem(self, description: str) -> None:
        log.warning("officer simulator: %s", description)
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(description)

    @property
    def taken(self) -> int:
        return sum(self.actions.values())


class PlatformApi:
    """HTTP requests to routing (as an official, with their token) and intake (as a citizen)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        routing_url: str,
        intake_url: str,
        issuer_url: str,
        in_flight: int = 16,
        clock: Callable[[], float] = time.monotonic,
        patience: float = UNAVAILABLE_PATIENCE_S,
        signing_url: str = "http://127.0.0.1:8005",
        digitisation_url: str = "http://127.0.0.1:8002",
    ) -> None:
        self.client = client
        self.patience = patience
        self.routing_url, self.intake_url, self.issuer_url = routing_url, intake_url, issuer_url
        self.signing_url, self.digitisation_url = signing_url, digitisation_url
        self.in_flight = asyncio.Semaphore(in_flight)
        self.clock = clock
        self.tokens: dict[str, tuple[str, float]] = {}  # official → (access token, expires at)
        self.token_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def routing(
        self, official: str, method: str, path: str, json: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """Call routing's officer API as `official`; a refused token is renewed once."""
        return await self.as_official(official, method, self.routing_url + path, json, params)

    async def signing(self, official: str, method: str, path: str, json: Any = None, **options: Any) -> httpx.Response:
        """Call signing's API as `official` (a leader signing the results they approved, an officer a scan)."""
        return await self.as_official(official, method, self.signing_url + path, json, **options)

    async def digitisation(self, official: str, method: str, path: str, **options: Any) -> httpx.Response:
        """Call digitisation's API as `official` (a receiving officer scanning paper components)."""
        return await self.as_official(official, method, self.digitisation_url + path, **options)

    async def as_official(
        self,
        official: str,
        method: str,
        url: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> httpx.Response:
        for renewed in (False, True):
            auth = {"Authorization": f"Bearer {await self.token(official, renew=renewed)}"}
            response = await self.send(method, url, json=json, params=params, headers=(headers or {}) | auth, **options)
            if response.status_code != 401:
                break
        return response

    async def intake(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """Call intake's public (citizen) API."""
        return await self.send(method, self.intake_url + path, json=json)

    async def token(self, official: str, renew: bool = False) -> str:
        """The official's access token from the issuer: one per official, renewed before it expires."""
        async with self.token_locks[official]:
            cached = self.tokens.get(official)
            if cached is None or renew or cached[1] - self.clock() < RENEW_BEFORE_S:
                response = await self.send(
                    "POST",
                    f"{self.issuer_url}/token",
                    data={"grant_type": "password", "username": official, "expires_in": str(TOKEN_LIFETIME_S)},
                )
                response.raise_for_status()
                body = response.json()
                cached = (body["access_token"], self.clock() + float(body.get("expires_in", TOKEN_LIFETIME_S)))
                self.tokens[official] = cached
            return cached[0]

    async def send(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One request, at most `in_flight` at a time; transport errors and 5xx answers (a service
        restarting) are retried with backoff, then the last answer is returned (or the error raised)."""
        deadline = self.clock() + self.patience
        for attempt in itertools.count(1):
            try:
                async with self.in_flight:
                    response = await self.client.request(method, url, **options)
                if response.status_code < 500 or self.clock() > deadline:
                    return response
            except httpx.TransportError:
                if self.clock() > deadline:
                    raise
            await asyncio.sleep(backoff(attempt, RETRY_PAUSE_S, cap=RETRY_PAUSE_CAP_S))
        raise AssertionError("unreachable")
