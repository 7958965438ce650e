"""The officer simulator (mô phỏng cán bộ xử lý): officials who work dossiers through routing's
officer API, so that dossiers reach completion the way they do in a province.

It is an outside party. It acts only through the platform's public interfaces: routing's
officer HTTP API with each official's token from the stack's identity provider, intake's
citizen API (it also plays each citizen asked for a supplement), and routing's topic
`motcua.routing.v1`, read like any dashboard does. It works only the dossiers it is given.

For every step one of its dossiers enters (`dossier.step_started`, `dossier.assigned`) it
plays the official the step belongs to, after a think time:

- a step nobody holds (a pooled step such as receive and return, or one nobody could be
  assigned to): an official of that unit and role claims it, then acts; if the claim answers
  409 "already held", whoever holds it acts once their assignment is seen;
- the receiving officer who takes a dossier in scans its paper components at digitisation
  (a page per component, assembled there into the electronic copy), signs each copy at
  signing with their own certificate and hands it back (`infra/scanning_desk.py`), then
  forwards; the holder forwards; a leader approves the step that ends with approval, retrying
  once routing's view no longer waits for the fee or the scans; the receiving officer returns
  the result;
- at a dossier's first specialist review, a share of dossiers is sent back once for one of
  its procedure's documents (the citizen resubmits it, retrying while intake answers 409)
  and another share is refused with a reason in Vietnamese.

Units lacking a receiving officer, specialist or leader are staffed through the officials
API as the province administrator, a second province administrator confirming each leader
role (`infra/staffing.py`). Every answer other than the
expected one is counted in `tally`; the unexpected ones are described in `tally.problems`
(status and the service's message, never a citizen's personal data).

Use from a test, in the test's own event loop::

    from infra.officers import Officers, Options

    officers = Officers.for_stack(stack, Options(think=0.05, supplements=0, refusals=0, seed=7))
    async with officers:                            # follows routing's topic from this moment
        code = receipt["dossier_code"]              # submitted by the test, after the start
        officers.add(code, owner=phone)             # owner: only needed for supplements
        unsettled = await officers.wait(timeout=180)   # [] once every dossier given settled
    assert not unsettled, officers.tally.problems
    assert officers.settlements[code].ending == "completed"

API:

- `Officers(endpoints, options=Options(), transport=None)`; `Officers.for_stack(stack, options)`.
  `Options(think=0.2, supplements=0.05, refusals=0.02, seed=None, patience=300.0,
  connections=16, admin="h40.quantri", confirming_admin="h40.quantri2")`: mean think time (s),
  shares of dossiers sent back and refused, seed of the decisions, how long an action waits
  for its conditions (s), HTTP requests in flight, the administrator who lists and adds
  officials and the one who confirms the leader roles the first asks for.
- `await start(since=None, follow=True)`: open and follow routing's topic from now, or from the
  moment `since` (to pick up dossiers submitted before the start); `await stop()`;
  `async with officers:` does both.
- `add(code, owner=None)`: work this dossier too (`owner`: the phone it was submitted with).
- `await staff(units)`: make sure each unit has every role; returns the official ids added.
- `await wait(codes=None, timeout=300)`: the codes (default: all given) not settled in time.
- `settlements`: code → `Settlement(ending, at, outcome)`; ending is completed, refused or
  withdrawn, `at` the monotonic time it was read.
- `tally`: `Tally` (actions taken, other outcomes, problems, supplements answered, approvals
  that had to wait).
- `record(envelope, at=None)`: take one event of routing's topic (what the follower does).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import httpx
from aiokafka import AIOKafkaConsumer
from motcua_contracts import DossierStepStarted, Envelope
from pydantic import ValidationError

from .casework import WATCHED, Case, Settlement, draw_plan
from .desk import Desk, Options
from .kafka_io import topic_reader
from .platform_api import PlatformApi, Tally
from .stack import Stack
from .staffing import Roster

__all__ = ["Endpoints", "Officers", "Options", "Settlement"]
UNHEARD_KEPT = 20_000  # dossiers whose events are kept until they are given (or forgotten, oldest first)


@dataclass(frozen=True)
class Endpoints:
    routing: str
    intake: str
    issuer: str
    kafka: Mapping[str, str]  # the read-only user's connection (departments and dashboards read the same)
    signing: str = "http://127.0.0.1:8005"
    digitisation: str = "http://127.0.0.1:8002"

    @classmethod
    def of(cls, stack: Stack) -> Endpoints:
        return cls(
            stack.service_url("routing"),
            stack.service_url("intake"),
            stack.issuer_url,
            stack.kafka_client("reader"),
            stack.service_url("signing"),
            stack.service_url("digitisation"),
        )


class Officers:
    """Simulated officials working the dossiers they are given; see the module's docstring."""

    def __init__(
        self, endpoints: Endpoints, options: Options | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.endpoints = endpoints
        self.options = options = options or Options()
        self.client = httpx.AsyncClient(
            timeout=30, transport=transport, limits=httpx.Limits(max_connections=options.connections)
        )
        self.tally = Tally()
        api = PlatformApi(
            self.client,
            endpoints.routing,
            endpoints.intake,
            endpoints.issuer,
            options.connections,
            signing_url=endpoints.signing,
            digitisation_url=endpoints.digitisation,
        )
        self.roster = Roster(api, options.admin, options.confirming_admin)
        self.desk = Desk(api, self.roster, self.tally, options)
        self.cases: dict[str, Case] = {}
        self.unheard: OrderedDict[str, list[tuple[Envelope, float]]] = OrderedDict()
        self.wakes: dict[str, asyncio.Event] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.follower: asyncio.Task[None] | None = None
        self.settling = asyncio.Event()  # set (and replaced) whenever a dossier settles

    @classmethod
    def for_stack(cls, stack: Stack, options: Options | None = None) -> Officers:
        return cls(Endpoints.of(stack), options)

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self, since: datetime | None = None, follow: bool = True) -> None:
        """Follow routing's topic (from now, or from `since`); returns once the start is pinned."""
        if follow:
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.follower = asyncio.create_task(self._follow(since, ready), name="officers: routing topic")
            await ready

    async def stop(self) -> None:
        tasks = [task for task in (self.follower, *self.workers.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.desk.signing.close()
        await self.client.aclose()

    async def __aenter__(self) -> Officers:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    # --- the dossiers ---------------------------------------------------------------------------

    def add(self, code: str, owner: str | None = None) -> None:
        """Work dossier `code` too; `owner` is the phone it was submitted with (for supplements)."""
        if code in self.cases:
            return
        options = self.options
        plan = draw_plan(options.seed, code, options.supplements, options.refusals, owner is not None)
        case = self.cases[code] = Case(code, owner, plan)
        self.wakes[code] = asyncio.Event()
        for envelope, at in self.unheard.pop(code, []):
            self._fold(case, envelope, at)
        self.workers[code] = asyncio.create_task(self._work(case), name=f"officers: {code}")

    async def staff(self, units: Iterable[str]) -> list[str]:
        """Make sure each unit has a receiving officer, a specialist and a leader; the ids added."""
        return await self.roster.staff(units)

    @property
    def settlements(self) -> dict[str, Settlement]:
        return {code: case.settlement for code, case in self.cases.items() if case.settlement is not None}

    async def wait(self, codes: Iterable[str] | None = None, timeout: float = 300) -> list[str]:
        """Wait until the dossiers (default: every one given) are settled; the codes that are not."""
        wanted = list(self.cases if codes is None else codes)
        deadline = time.monotonic() + timeout
        while unsettled := [code for code in wanted if code not in self.cases or not self.cases[code].settlement]:
            left = deadline - time.monotonic()
            if left <= 0:
                return unsettled
            try:
                await asyncio.wait_for(self.settling.wait(), left)
            except TimeoutError:
                return unsettled
        return []

    # --- events -----------------------------------------------------------------------------------

    def record(self, envelope: Envelope, at: float | None = None) -> None:
        """Take one event of routing's topic; events of dossiers not given yet are kept for `add`."""
        if envelope.type not in WATCHED:
            return
        at = time.monotonic() if at is None else at
        case = self.cases.get(envelope.subject)
        if case is not None:
            self._fold(case, envelope, at)
            return
        self.unheard.setdefault(envelope.subject, []).append((envelope, at))
        self.unheard.move_to_end(envelope.subject)
        if len(self.unheard) > UNHEARD_KEPT:
            self.unheard.popitem(last=False)

    def _fold(self, case: Case, envelope: Envelope, at: float) -> None:
        if case.record(envelope.id, envelope.type, envelope.data, at):
            if case.settlement is not None:
                self.settling.set()
                self.settling = asyncio.Event()
            self.wakes[case.code].set()

    async def _follow(self, since: datetime | None, ready: asyncio.Future[None]) -> None:
        consumer = topic_reader(self.endpoints.kafka, DossierStepStarted.TOPIC.name, from_start=False)
        try:
            await self._position(consumer, since)
        except Exception as error:  # Kafka unreachable: `start` raises it
            ready.set_exception(error)
            await consumer.stop()
            return
        ready.set_result(None)
        try:
            async for record in consumer:
                try:
                    envelope = Envelope.model_validate_json(record.value)
                except ValidationError:
                    continue  # not an envelope (tests put such records on topics too)
                try:
                    self.record(envelope)
                except (KeyError, TypeError) as error:
                    self.tally.problem(f"{envelope.type} of {envelope.subject} not understood: {error!r}")
        except Exception as error:
            self.tally.problem(f"following {consumer.subscription()}: {type(error).__name__}: {error}")
        finally:
            await consumer.stop()

    @staticmethod
    async def _position(consumer: AIOKafkaConsumer, since: datetime | None) -> None:
        """Start at the end of every partition, or at the first event since `since`."""
        await consumer.start()
        partitions = list(consumer.assignment())
        if since is not None:
            moment = int(since.timestamp() * 1000)
            found = await consumer.offsets_for_times({partition: moment for partition in partitions})
            for partition, offset in found.items():
                if offset is None:
                    await consumer.seek_to_end(partition)
                else:
                    consumer.seek(partition, offset.offset)
        for partition in partitions:
            await consumer.position(partition)  # pin the start now, before any dossier is submitted

    async def _work(self, case: Case) -> None:
        """The dossier's officials, one move at a time, until it is settled."""
        wake = self.wakes[case.code]
        while case.settlement is None:
            await wake.wait()
            wake.clear()
            try:
                await self.desk.work(case)
            except Exception as error:  # one dossier's surprise is reported, never silently ends its worker
                self.tally.problem(f"{case.code}: {type(error).__name__}: {error}")
                if (move := case.next_move()) is not None:
                    case.done(move, move.official)  # wait for the dossier's next event
