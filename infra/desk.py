"""The officials' desk: makes the moves `infra/casework.py` decides, through routing's officer API.

Each official acts with their own token; a pooled step is claimed first; an approval (or a
forward after a supplement request) the dossier is not ready for is retried once routing's
view of the dossier no longer waits for what blocked it, until the options' patience runs out.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from services.runtime.retry import backoff

from .casework import (
    RECEIVING,
    REFUSAL_REASONS,
    SUPPLEMENT_REASON,
    Case,
    Move,
    Verdict,
    judge,
    step_actions,
    think_time,
)
from .citizens import resubmit
from .platform_api import PlatformApi, Tally, detail_of
from .scanning_desk import ScanningDesk
from .signing_desk import SigningDesk
from .staffing import PROVINCE_ADMIN, SECOND_PROVINCE_ADMIN, Roster

LOOK_AGAIN_S, LOOK_AGAIN_CAP_S = 0.25, 5.0  # pauses between looks at a dossier that waits for something
BEFORE_APPROVAL = frozenset({"digitisation", "payment", "supplement"})
BEFORE_FORWARD = frozenset({"supplement"})


@dataclass(frozen=True)
class Options:
    """How the simulated officials work."""

    think: float = 0.2  # mean think time before each action, seconds (give or take half)
    supplements: float = 0.05  # share of dossiers sent back once for a supplement
    refusals: float = 0.02  # share of dossiers refused
    seed: int | None = None  # for repeatable decisions
    patience: float = 300.0  # how long an action waits for payment, scans or a supplement, seconds
    connections: int = 16  # HTTP requests in flight
    admin: str = PROVINCE_ADMIN  # who lists and adds officials
    confirming_admin: str = SECOND_PROVINCE_ADMIN  # who confirms the leader roles `admin` asks for


class Desk:
    """Performs moves for every simulated official; shares their workflow and catalogue look-ups."""

    def __init__(self, api: PlatformApi, roster: Roster, tally: Tally, options: Options) -> None:
        self.api, self.roster, self.tally, self.options = api, roster, tally, options
        self.rng = random.Random(options.seed)
        self.workflows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.catalogue: dict[str, list[str]] = {}
        self.locks: defaultdict[Any, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.signing = SigningDesk(api, tally, options.patience)
        self.scanning = ScanningDesk(api, tally, options.patience)

    async def work(self, case: Case) -> None:
        """Make the moves the dossier's current step calls for until none is left."""
        while (move := case.next_move()) is not None:
            if case.actions is None:
                await self.open(case, move)
                continue  # decide again, knowing how each step of the workflow ends
            await asyncio.sleep(think_time(self.rng, self.options.think))
            if case.next_move() == move:  # else the dossier moved on meanwhile
                await self.perform(case, move)

    async def perform(self, case: Case, move: Move) -> None:
        official = move.official
        if official is None:
            official = await self.roster.pick(move.step.unit, move.step.role, self.rng)
            if official is None:
                self.tally.problem(f"claim {case.code}: unit {move.step.unit} has no {move.step.role}")
            if official is None or await self.post(case, official, "claim") is not Verdict.DONE:
                case.done(move, None)  # if someone else holds it, their assignment brings the step back
                return
            case.claimed(move, official)
        if move.act == "supplement":
            await self.ask_supplement(case, official)
            return  # the forward comes as the next move
        if move.act == "forward":
            if move.step.role == RECEIVING:  # at receipt: the paper is scanned before it moves on
                await self.scanning.scan_paper(case.code, official)
            await self.when_ready(case, move, official, "forward", BEFORE_FORWARD)
        elif move.act == "approve":
            if await self.when_ready(case, move, official, "approval", BEFORE_APPROVAL):
                self.tally.approvals_waited += 1
            self.signing.approved(official, case.code)  # the approving leader signs the result
        elif move.act == "return":
            await self.post(case, official, "return")
        elif move.act == "refuse":
            await self.post(case, official, "refusal", {"reason": self.rng.choice(REFUSAL_REASONS)})
        case.done(move, official)

    async def post(self, case: Case, official: str, action: str, body: Any = None) -> Verdict:
        """One officer action (`/dossiers/{code}/{action}`), counted."""
        response = await self.api.routing(official, "POST", f"/dossiers/{case.code}/{action}", json=body)
        verdict = judge(response.status_code, detail_of(response))
        self.tally.count(action, verdict, case.code, response)
        return verdict

    async def when_ready(self, case: Case, move: Move, official: str, action: str, blocking: frozenset[str]) -> bool:
        """Act; while routing answers that the dossier waits for something, wait until its view no
        longer lists it and act again. True if the action had to wait."""
        deadline, waited = time.monotonic() + self.options.patience, False
        while await self.post(case, official, action) is Verdict.WAITING:
            waited = True
            if not await self.until_clear(case, move, official, blocking, deadline):
                if case.settlement is None and case.turn == move.turn:
                    self.tally.problem(f"{action} {case.code}: still waiting after {self.options.patience:.0f} s")
                break
        return waited

    async def until_clear(
        self, case: Case, move: Move, official: str, blocking: frozenset[str], deadline: float
    ) -> bool:
        """Look at the dossier, with growing pauses, until it waits for none of `blocking`."""
        attempt = 0
        while time.monotonic() < deadline and case.settlement is None and case.turn == move.turn:
            await asyncio.sleep(backoff(attempt + 1, LOOK_AGAIN_S, cap=LOOK_AGAIN_CAP_S))
            attempt += 1
            response = await self.api.routing(official, "GET", f"/dossiers/{case.code}")
            if response.status_code != 200:
                self.tally.count("view", Verdict.UNEXPECTED, case.code, response)
            elif not blocking & set(response.json().get("waiting_for", [])):
                return True
        return False

    async def ask_supplement(self, case: Case, official: str) -> None:
        """Send the dossier back for one of its procedure's documents; its owner hands it in."""
        case.supplement_asked = True  # once per dossier, whatever comes of it
        if not case.documents or case.owner is None:
            self.tally.problem(f"supplement-request {case.code}: the procedure's documents are unknown")
            return
        documents = [self.rng.choice(case.documents)]
        body = {"documents": documents, "reason": SUPPLEMENT_REASON}
        if await self.post(case, official, "supplement-request", body) is not Verdict.DONE:
            return
        await asyncio.sleep(think_time(self.rng, self.options.think))  # the citizen reads the request

        def still_open() -> bool:
            return case.settlement is None

        answered = await resubmit(
            self.api,
            self.tally,
            case.code,
            case.owner,
            documents,
            self.options.patience,
            still_open,
            token=case.receipt_token,
        )
        if not answered and still_open():
            self.tally.problem(f"supplement {case.code}: not accepted by intake")

    # --- what an official reads before acting -------------------------------------------------

    async def open(self, case: Case, move: Move) -> None:
        """Read the dossier: which workflow version it follows (how each step ends) and, if it
        will be sent back for a supplement, its procedure's documents."""
        case.actions = {}  # presumed from the step ids unless read below
        official = move.official or await self.roster.pick(move.step.unit, move.step.role, self.rng)
        if official is None:
            return
        response = await self.api.routing(official, "GET", f"/dossiers/{case.code}")
        if response.status_code != 200:
            self.tally.count("view", Verdict.UNEXPECTED, case.code, response)
            return
        view = response.json()
        if (workflow := view.get("workflow")) and "scope" in workflow:
            case.actions = await self.step_actions(official, workflow) or {}
        if case.plan.supplement:
            case.documents = await self.documents(view.get("procedure_code") or "")

    async def step_actions(self, official: str, workflow: dict[str, Any]) -> dict[str, str] | None:
        """How each step of a workflow version ends; versions never change, so they are kept."""
        template, scope, version = workflow["template"], workflow["scope"], workflow["version"]
        async with self.locks[template, scope]:
            found = step_actions(self.workflows.get((template, scope), []), scope, version)
            if found is None:  # a version saved since the last look
                params = {"unit": scope} if scope != "*" else None
                response = await self.api.routing(official, "GET", f"/workflows/{template}", params=params)
                if response.status_code != 200:
                    self.tally.count("workflow", Verdict.UNEXPECTED, template, response)
                    return None
                self.workflows[template, scope] = response.json()["versions"]
                found = step_actions(self.workflows[template, scope], scope, version)
        return found

    async def documents(self, procedure: str) -> list[str]:
        """The component names of a procedure of intake's public catalogue."""
        async with self.locks["catalogue"]:
            if not self.catalogue:
                response = await self.api.intake("GET", "/procedures")
                response.raise_for_status()
                for row in response.json()["procedures"]:
                    self.catalogue[row["code"]] = [component["name"] for component in row["components"]]
        return self.catalogue.get(procedure, [])
