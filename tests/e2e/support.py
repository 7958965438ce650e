"""Helpers of the end-to-end tests: submit over HTTP, look into each service's
database and each topic, read the exported spans."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from motcua_contracts import Envelope, Topic
from pydantic import ValidationError
from pymongo import MongoClient

from infra.dossiers import make_dossier, with_uploads
from infra.kafka_io import read_topic
from infra.officers import Officers, Options
from infra.stack import Stack

T = TypeVar("T")
SIX_SERVICES = {"intake", "digitisation", "payment", "routing", "signing", "notification"}


async def submit_dossiers(
    stack: Stack,
    count: int,
    rate: float,
    seed: int,
    on_receipt: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Submit `count` realistic dossiers at `rate` per second; returns the receipts, each with the
    owner's `phone` and `identity_number` it was submitted with (the platform never echoes them).
    `on_receipt` sees each receipt as it comes (e.g. to hand the dossier to the officials)."""
    rng = random.Random(seed)
    async with (
        httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as client,
        httpx.AsyncClient(base_url=stack.service_url("digitisation"), timeout=60) as digitisation,
    ):
        procedures = (await client.get("/procedures")).json()["procedures"]
        communes = (await client.get("/communes")).json()
        start = time.monotonic()

        async def one(i: int) -> dict[str, Any]:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            dossier = await with_uploads(digitisation, make_dossier(rng, procedures, communes), patience=180)
            response = await submit_until_received(client, dossier, key=f"e2e-{seed}-{i}-{uuid.uuid4()}")
            assert response.status_code in (200, 201), response.text
            applicant = dossier["applicant"]
            receipt = response.json() | {"phone": applicant["phone"], "identity_number": applicant["identity_number"]}
            if on_receipt is not None:
                on_receipt(receipt)
            return receipt

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def portal(stack: Stack, dossier: dict[str, Any]) -> dict[str, Any]:
    """What a portal submits for `dossier` (from `make_dossier`): its files uploaded to the document store first."""
    async with httpx.AsyncClient(base_url=stack.service_url("digitisation"), timeout=60) as digitisation:
        return await with_uploads(digitisation, dossier, patience=60)


async def submit_until_received(
    client: httpx.AsyncClient, dossier: dict[str, Any], key: str, patience: float = 180
) -> httpx.Response:
    """Submit as a careful portal does: the same Idempotency-Key on every attempt, attempts
    again while intake is unreachable or unavailable (503, 5xx: e.g. its database is down),
    waiting as long as Retry-After asks."""
    deadline = time.monotonic() + patience
    while True:
        try:
            response = await client.post("/dossiers", json=dossier, headers={"Idempotency-Key": key})
            if response.status_code < 500 and response.status_code != 429:
                return response
            pause = float(response.headers.get("retry-after", 1))
        except httpx.TransportError:
            pause = 1.0
        if time.monotonic() + pause > deadline:
            raise AssertionError(f"intake did not take the dossier within {patience}s")
        await asyncio.sleep(pause)


# Officials who take every dossier to its result: no supplement requests, no refusals.
EVERY_DOSSIER_COMPLETES = Options(think=0.05, supplements=0, refusals=0, seed=8)


@asynccontextmanager
async def officials(stack: Stack, options: Options = EVERY_DOSSIER_COMPLETES) -> AsyncIterator[Officers]:
    """The officer simulator, following routing's topic from now; hand it dossiers with `add`."""
    async with Officers.for_stack(stack, options) as working:
        yield working


async def settled(working: Officers, receipts: list[dict[str, Any]], timeout: float = 300) -> None:
    """Hand `receipts` to the officials and wait until every one is completed."""
    for receipt in receipts:
        working.add(receipt["dossier_code"], owner=receipt.get("phone"))
    codes = [r["dossier_code"] for r in receipts]
    unsettled = await working.wait(codes, timeout=timeout)
    assert not unsettled, f"not settled: {unsettled}; {working.tally.problems}"
    endings = {code: working.settlements[code].ending for code in codes}
    assert set(endings.values()) == {"completed"}, endings


async def submit_and_complete(stack: Stack, count: int, rate: float, seed: int) -> list[dict[str, Any]]:
    """Submit dossiers and have officials take each to its result; the receipts."""
    async with officials(stack) as working:
        receipts = await submit_dossiers(stack, count, rate, seed)
        await settled(working, receipts)
    return receipts


def database(stack: Stack, service: str) -> Any:
    return MongoClient(stack.mongo_url)[f"motcua_{service}"]


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.5)


async def eventually(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 120) -> T:
    """The first result of `fetch` that is `done`, or the last one after `timeout` (the caller asserts on it)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.3)


SENT = ["sent", "delivered"]  # states of a message its provider took
PHONE = ["zns", "sms"]  # the citizen's phone: ZNS, or SMS when ZNS cannot carry it


def notified(stack: Stack, codes: list[str]) -> int:
    """How many of `codes` reached the last step: the citizen was told the result is ready."""
    told_result = {
        "subject": {"$in": codes},
        "milestone": "result_ready",
        "audience": "citizen",
        "state": {"$in": SENT},
    }
    found = database(stack, "notification")["messages"].distinct("subject", told_result)
    return len(found)


def told(stack: Stack, code: str) -> list[str]:
    """The milestones (templates) the citizen of `code` was told of on their phone, sorted."""
    rows = database(stack, "notification")["messages"].find(
        {"subject": code, "audience": "citizen", "channel": {"$in": PHONE}, "state": {"$in": SENT}}
    )
    return sorted(row["milestone"].split("@")[0] for row in rows)


async def wait_all_notified(stack: Stack, codes: list[str], timeout: float = 180) -> None:
    await wait_until(lambda: notified(stack, codes) == len(codes), f"{len(codes)} dossiers to complete", timeout)


async def events(stack: Stack, topic: Topic) -> list[Envelope]:
    """Every envelope on `topic` (records that are not envelopes, put there by other tests, left out)."""
    found = []
    async for record in read_topic(stack.kafka_client(), topic.name):
        try:
            found.append(Envelope.model_validate_json(record.value))
        except ValidationError:
            continue
    return found


def distinct_events_per_dossier(envelopes: list[Envelope], event_type: str) -> Counter[str]:
    """Number of distinct event ids of `event_type` per dossier (a republished copy has the same id)."""
    ids: dict[str, set[str]] = defaultdict(set)
    for envelope in envelopes:
        if envelope.type == event_type:
            ids[envelope.subject].add(envelope.id)
    return Counter({code: len(found) for code, found in ids.items()})


def spans(stack: Stack) -> list[dict[str, Any]]:
    found = []
    for path in (stack.data / "traces").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found


def traces_by_dossier(stack: Stack) -> dict[str, dict[str, set[str]]]:
    """{dossier code: {"traces": trace ids, "services": services with a span for it}}."""
    result: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"traces": set(), "services": set()})
    for span in spans(stack):
        code = span.get("attributes", {}).get("motcua.dossier_code")
        if code:
            result[code]["traces"].add(span["context"]["trace_id"])
            result[code]["services"].add(span["resource"]["attributes"]["service.name"])
    return result
