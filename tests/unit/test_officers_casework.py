"""The officer simulator's decisions as pure rules: which official acts on which step event
and how, the shares of supplement requests and refusals, and how answers are classified."""

from __future__ import annotations

import random
from typing import Any

import pytest

from infra.casework import (
    Case,
    Move,
    Plan,
    Step,
    Verdict,
    draw_plan,
    judge,
    judge_resubmission,
    step_actions,
    think_time,
)

CODE = "H40.101-261122-0001"
COMMUNE_STANDARD = {"receive": "forward", "review": "forward", "approve": "approve", "sign": "sign", "return": "return"}
INTER_AGENCY = {
    "receive": "forward",
    "commune-review": "forward",
    "commune-leader": "forward",
    "review": "forward",
    "approve": "approve",
    "sign": "sign",
    "return": "return",
}


class Feed:
    """Events of one dossier as routing's topic carries them, each with a fresh id."""

    def __init__(self, case: Case) -> None:
        self.case, self.number = case, 0

    def send(self, event_type: str, **data: Any) -> bool:
        self.number += 1
        return self.case.record(f"event-{self.number}", event_type, data, at=float(self.number))

    def step(self, step: str, unit: str, role: str, holder: str | None = None) -> bool:
        return self.send("dossier.step_started", step=step, unit=unit, role=role, holder=holder)

    def assigned(self, step: str, holder: str) -> bool:
        return self.send("dossier.assigned", step=step, unit="H40.101", holder=holder)


def case(plan: Plan | None = None, actions: dict[str, str] | None = COMMUNE_STANDARD) -> tuple[Case, Feed]:
    made = Case(CODE, owner="0912345678", plan=plan or Plan(), actions=actions)
    return made, Feed(made)


def act_of(dossier: Case) -> str:
    move = dossier.next_move()
    assert move is not None
    return move.act


def test_a_pooled_step_is_claimed_by_an_official_of_its_unit_and_forwarded_once() -> None:
    dossier, feed = case()
    feed.step("receive", "H40.101", "receiving")
    move = dossier.next_move()
    assert move == Move(1, Step("receive", "H40.101", "receiving"), None, "forward")

    dossier.claimed(move, "h40101.tiepnhan1")
    dossier.done(move, "h40101.tiepnhan1")
    feed.assigned("receive", "h40101.tiepnhan1")  # the claim's own event, read after the forward
    assert dossier.next_move() is None

    feed.step("review", "H40.101", "specialist", holder="h40101.hotich")
    assert dossier.next_move() == Move(2, Step("review", "H40.101", "specialist"), "h40101.hotich", "forward")


def test_a_lost_claim_moves_on_and_the_winner_acts_once_their_assignment_is_seen() -> None:
    dossier, feed = case()
    feed.step("return", "H40.101", "receiving")
    move = dossier.next_move()
    assert move is not None and move.official is None
    dossier.done(move, None)  # 409 "already held"
    assert dossier.next_move() is None
    feed.assigned("return", "h40101.tiepnhan2")
    assert dossier.next_move() == Move(1, Step("return", "H40.101", "receiving"), "h40101.tiepnhan2", "return")


def test_a_leader_approves_only_the_step_that_ends_with_approval() -> None:
    dossier, feed = case(actions=INTER_AGENCY)
    feed.step("commune-leader", "H40.101", "leader", holder="h40101.chutich")
    assert act_of(dossier) == "forward"
    feed.step("approve", "000.16.01.H40", "leader", holder="vpdkdd.giamdoc")
    assert dossier.next_move() == Move(2, Step("approve", "000.16.01.H40", "leader"), "vpdkdd.giamdoc", "approve")


def test_an_overridden_workflow_is_followed_and_unknown_actions_are_presumed_from_the_step_ids() -> None:
    renamed = {"tiep-nhan": "forward", "duyet": "approve", "ky": "sign", "tra": "return"}
    dossier, feed = case(actions=renamed)
    feed.step("duyet", "H40.102", "leader", holder="h40102.chutich")
    assert act_of(dossier) == "approve"

    presumed, feed = case(actions=None)
    feed.step("return", "H40.101", "receiving")
    assert act_of(presumed) == "return"
    feed.step("check", "H40.101", "specialist")  # a unit's extra pooled step
    assert presumed.next_move() == Move(2, Step("check", "H40.101", "specialist"), None, "forward")


def test_nobody_acts_on_the_signing_step_nor_after_the_dossier_settled() -> None:
    dossier, feed = case()
    feed.step("sign", "H40.101", "system")
    assert dossier.next_move() is None
    assert feed.send("dossier.completed", outcome="early")
    assert dossier.settlement is not None and dossier.settlement.ending == "completed"
    assert dossier.settlement.outcome == "early"
    assert not feed.step("return", "H40.101", "receiving")
    assert dossier.next_move() is None


@pytest.mark.parametrize(("event_type", "ending"), [("dossier.refused", "refused"), ("dossier.withdrawn", "withdrawn")])
def test_refused_and_withdrawn_dossiers_are_settled(event_type: str, ending: str) -> None:
    dossier, feed = case()
    feed.step("review", "H40.101", "specialist", holder="h40101.hotich")
    feed.send(event_type, reason="x")
    assert dossier.settlement is not None and dossier.settlement.ending == ending
    assert dossier.next_move() is None


def test_a_republished_event_and_other_event_types_change_nothing() -> None:
    dossier, _ = case()
    started = {"step": "receive", "unit": "H40.101", "role": "receiving", "holder": None}
    assert dossier.record("same-id", "dossier.step_started", started, at=1.0)
    assert not dossier.record("same-id", "dossier.step_started", started, at=2.0)
    assert not dossier.record("other", "dossier.due_soon", {"unit": "H40.101"}, at=3.0)
    assert dossier.turn == 1


def test_an_assignment_of_another_step_is_ignored() -> None:
    dossier, feed = case()
    feed.step("review", "H40.101", "specialist", holder="h40101.hotich")
    assert not feed.assigned("receive", "h40101.tiepnhan1")
    assert dossier.holder == "h40101.hotich"


def test_the_first_specialist_review_asks_for_a_supplement_then_forwards() -> None:
    dossier, feed = case(plan=Plan(supplement=True))
    feed.step("receive", "H40.101", "receiving")
    assert act_of(dossier) == "forward"
    feed.step("review", "H40.101", "specialist", holder="h40101.hotich")
    assert act_of(dossier) == "supplement"
    dossier.supplement_asked = True
    assert act_of(dossier) == "forward"


def test_a_dossier_drawn_for_refusal_is_refused_at_its_first_specialist_review() -> None:
    dossier, feed = case(plan=Plan(refusal=True), actions=INTER_AGENCY)
    feed.step("commune-review", "H40.101", "specialist", holder="h40101.vanhoa")
    assert act_of(dossier) == "refuse"


def test_plans_follow_the_shares_and_the_seed() -> None:
    codes = [f"H40.101-261122-{n:04d}" for n in range(4000)]
    plans = [draw_plan(7, code, 0.1, 0.05, owner_known=True) for code in codes]
    assert 0.08 < sum(p.supplement for p in plans) / len(codes) < 0.12
    assert 0.035 < sum(p.refusal for p in plans) / len(codes) < 0.065
    assert not any(p.supplement and p.refusal for p in plans)
    assert plans == [draw_plan(7, code, 0.1, 0.05, owner_known=True) for code in reversed(codes)][::-1]
    assert plans != [draw_plan(8, code, 0.1, 0.05, owner_known=True) for code in codes]


def test_no_supplement_or_refusal_with_zero_shares_and_no_supplement_without_the_owner() -> None:
    assert all(draw_plan(1, f"c{n}", 0, 0, owner_known=True) == Plan() for n in range(500))
    assert not any(draw_plan(1, f"c{n}", 1.0, 0, owner_known=False).supplement for n in range(50))


@pytest.mark.parametrize(
    ("status", "detail", "verdict"),
    [
        (200, "", Verdict.DONE),
        (201, "", Verdict.DONE),
        (409, "step 'receive' of dossier X is already held by h40101.tiepnhan2", Verdict.HELD),
        (409, "dossier X cannot be approved yet: waiting for digitisation, payment", Verdict.WAITING),
        (409, "dossier X is waiting for a supplement from the citizen", Verdict.WAITING),
        (409, "dossier X is refused", Verdict.UNEXPECTED),
        (403, "step 'review' of dossier X is held by h40101.hotich", Verdict.UNEXPECTED),
        (422, "bad body", Verdict.UNEXPECTED),
    ],
)
def test_routing_answers_are_classified(status: int, detail: str, verdict: Verdict) -> None:
    assert judge(status, detail) is verdict


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Verdict.DONE), (202, Verdict.DONE), (409, Verdict.NOT_YET), (429, Verdict.BUSY), (422, Verdict.UNEXPECTED)],
)
def test_intake_answers_to_a_supplement_are_classified(status: int, verdict: Verdict) -> None:
    assert judge_resubmission(status) is verdict


def test_step_actions_come_from_the_pinned_version_of_the_pinned_scope() -> None:
    versions = [
        {"unit": "*", "version": 1, "steps": [{"id": "approve", "action": "approve"}]},
        {"unit": "H40.102", "version": 1, "steps": [{"id": "duyet", "action": "approve"}]},
        {"unit": "H40.102", "version": 2, "steps": [{"id": "check", "action": "forward"}]},
    ]
    assert step_actions(versions, "H40.102", 1) == {"duyet": "approve"}
    assert step_actions(versions, "*", 1) == {"approve": "approve"}
    assert step_actions(versions, "H40.102", 3) is None


def test_think_time_jitters_around_its_mean() -> None:
    rng = random.Random(3)
    pauses = [think_time(rng, 0.2) for _ in range(1000)]
    assert min(pauses) >= 0.1 and max(pauses) <= 0.3 and 0.19 < sum(pauses) / len(pauses) < 0.21
    assert think_time(rng, 0) == 0
