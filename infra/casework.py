"""Casework (xử lý hồ sơ): what the simulated officials do next on a dossier. Pure rules, no I/O.

A `Case` folds what routing's topic says about one dossier (the step it is at, who holds
it, how it ended) and answers `next_move()`: who acts, and how. The HTTP side
(`infra/officers.py`) performs the move and tells the case what came of it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from motcua_contracts import DossierAssigned, DossierCompleted, DossierRefused, DossierStepStarted, DossierWithdrawn

RECEIVING, SPECIALIST, LEADER, SYSTEM = "receiving", "specialist", "leader", "system"
STAFFED_ROLES = (RECEIVING, SPECIALIST, LEADER)

Act = Literal["forward", "approve", "return", "supplement", "refuse"]
Ending = Literal["completed", "refused", "withdrawn"]
ENDINGS: dict[str, Ending] = {
    DossierCompleted.TYPE: "completed",
    DossierRefused.TYPE: "refused",
    DossierWithdrawn.TYPE: "withdrawn",
}
WATCHED = frozenset({DossierStepStarted.TYPE, DossierAssigned.TYPE, *ENDINGS})

SUPPLEMENT_REASON = "Thành phần hồ sơ chưa đầy đủ, chưa rõ nét; đề nghị công dân bổ sung, hoàn thiện."
REFUSAL_REASONS = (
    "Hồ sơ không đủ điều kiện giải quyết theo quy định.",
    "Thông tin trong tờ khai không khớp với giấy tờ kèm theo.",
    "Yêu cầu không thuộc thẩm quyền giải quyết của cơ quan.",
)


@dataclass(frozen=True)
class Plan:
    """What the dossier's specialist decides at the first review, drawn once per dossier."""

    supplement: bool = False
    refusal: bool = False


def draw_plan(seed: int | None, code: str, supplements: float, refusals: float, owner_known: bool) -> Plan:
    """A supplement request with probability `supplements`, else a refusal with probability `refusals`.

    Drawn from the seed and the dossier code, so a seeded run decides the same dossiers the
    same way whatever order they arrive in. Without the owner's phone nobody could answer a
    supplement request, so none is drawn."""
    draw = random.Random(f"{seed}:{code}").random() if seed is not None else random.random()
    if owner_known and draw < supplements:
        return Plan(supplement=True)
    return Plan(refusal=supplements <= draw < supplements + refusals)


def think_time(rng: random.Random, mean: float) -> float:
    """An official's pause before acting: the mean, give or take half of it."""
    return rng.uniform(0.5 * mean, 1.5 * mean) if mean > 0 else 0.0


@dataclass(frozen=True)
class Step:
    id: str
    unit: str
    role: str


@dataclass(frozen=True)
class Move:
    """`official` does `act` at the dossier's `turn`-th step; None: an official of the step's unit
    and role claims it first (a pooled step, or one nobody could be assigned to)."""

    turn: int
    step: Step
    official: str | None
    act: Act


@dataclass(frozen=True)
class Settlement:
    ending: Ending
    at: float = field(compare=False)  # monotonic time the event was read
    outcome: str | None = None  # early, on_time or late, for a completed dossier


def presumed_action(step_id: str) -> str:
    """A step's action by the shipped templates' ids, when its workflow version cannot be read."""
    return {"approve": "approve", "sign": "sign", "return": "return"}.get(step_id, "forward")


def step_actions(versions: list[dict[str, Any]], scope: str, version: int) -> dict[str, str] | None:
    """Step id → action of workflow version `version` of `scope` ("*" or a unit), from `GET /workflows/...`."""
    for row in versions:
        if row.get("unit") == scope and row.get("version") == version:
            return {step["id"]: step["action"] for step in row["steps"]}
    return None


def decide(action: str, role: str, plan: Plan, supplement_asked: bool) -> Act | None:
    """How the step ends: the specialist's first review may instead ask for a supplement or refuse."""
    if action == "approve":
        return "approve"
    if action == "return":
        return "return"
    if action != "forward":
        return None  # signing: the signing service ends it
    if role == SPECIALIST and not supplement_asked:
        if plan.refusal:
            return "refuse"
        if plan.supplement:
            return "supplement"
    return "forward"


@dataclass
class Case:
    """One dossier the simulator works, as far as routing's topic has told."""

    code: str
    owner: str | None = field(default=None, repr=False)  # the citizen's phone: personal data
    plan: Plan = Plan()
    turn: int = 0  # steps entered so far (as seen)
    step: Step | None = None
    holder: str | None = None
    handled: tuple[int, str | None] | None = None  # (turn, holder) already acted on
    supplement_asked: bool = False
    actions: dict[str, str] | None = None  # step id → action, once the workflow version is read
    documents: list[str] = field(default_factory=list)  # the procedure's component names
    settlement: Settlement | None = None
    seen: set[str] = field(default_factory=set, repr=False)
    receipt_token: str | None = field(default=None, repr=False)  # the receipt's: opens the owner's requests

    def record(self, event_id: str, event_type: str, data: dict[str, Any], at: float) -> bool:
        """Fold one event of routing's topic in; True if it may call for a move or ends the case."""
        if event_id in self.seen or self.settlement is not None or event_type not in WATCHED:
            return False
        self.seen.add(event_id)
        if event_type == DossierStepStarted.TYPE:
            self.turn += 1
            self.step = Step(data["step"], data["unit"], data["role"])
            self.holder = data.get("holder")
        elif event_type == DossierAssigned.TYPE:
            if self.step is None or data["step"] != self.step.id:
                return False
            self.holder = data["holder"]
        else:
            self.settlement = Settlement(ENDINGS[event_type], at, data.get("outcome"))
        return True

    def next_move(self) -> Move | None:
        """The move the step calls for now, or None (nothing to do, or already done)."""
        step = self.step
        if self.settlement is not None or step is None or step.role == SYSTEM:
            return None
        if self.handled == (self.turn, self.holder):
            return None
        action = (self.actions or {}).get(step.id) or presumed_action(step.id)
        act = decide(action, step.role, self.plan, self.supplement_asked)
        return Move(self.turn, step, self.holder, act) if act else None

    def claimed(self, move: Move, official: str) -> None:
        """`official` took the step of `move` (their `dossier.assigned` may still be on its way)."""
        if self.turn == move.turn:
            self.holder = official

    def done(self, move: Move, official: str | None) -> None:
        """The move was made (or given up): do not make it again for this step and holder."""
        self.handled = (move.turn, official)


class Verdict(Enum):
    """How an answer of the platform counts for the simulator."""

    DONE = "done"
    HELD = "already held"  # a claim lost: another official holds the step
    WAITING = "waiting"  # the dossier waits for payment, scans or a supplement: retry once it has them
    NOT_YET = "not yet"  # intake has not learnt of the supplement request yet: retry
    BUSY = "rate limited"  # too many owner look-ups from this address: retry after the pause asked
    UNEXPECTED = "unexpected"


def judge(status: int, detail: str) -> Verdict:
    """Classify routing's answer to an officer action."""
    if 200 <= status < 300:
        return Verdict.DONE
    if status == 409 and "already held" in detail:
        return Verdict.HELD
    if status == 409 and "waiting for" in detail:
        return Verdict.WAITING
    return Verdict.UNEXPECTED


def judge_resubmission(status: int) -> Verdict:
    """Classify intake's answer to the citizen's supplement (409 until intake learnt of the request)."""
    if 200 <= status < 300:
        return Verdict.DONE
    return {409: Verdict.NOT_YET, 429: Verdict.BUSY}.get(status, Verdict.UNEXPECTED)
