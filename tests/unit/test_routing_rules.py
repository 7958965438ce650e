"""Routing's pure rules: competent units, workflow templates, assignment, deadline alarms,
who may grant roles, the apology's holder and horizon.

Deadline alarms are computed for an explicit `now`: the tests move that clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from motcua_contracts import DossierDueSoon, DossierOverdue
from pydantic import ValidationError

from services.routing import domain
from services.routing.settings import DATA
from services.runtime.calendar import WorkCalendar
from services.runtime.clock import LOCAL_TZ
from services.runtime.units import SAMPLE, load_units

UNITS = load_units(SAMPLE)
TEMPLATES = json.loads((DATA / "workflows.json").read_text(encoding="utf-8"))
AUTHORITIES = TEMPLATES["authorities"]
CALENDAR = WorkCalendar()


def steps(template: str) -> list[dict]:
    return TEMPLATES["templates"][template]["steps"]


def typed(template: str) -> list[domain.Step]:
    return [domain.Step.model_validate(step) for step in steps(template)]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("level", "authority", "unit"),
    [
        ("commune", "UBND cấp xã", "H40.101"),
        ("commune", "Công an cấp xã", "H40.101"),
        ("province", "Sở Xây dựng", "000.07.01.H40"),
        ("inter_agency", "Văn phòng đăng ký đất đai", "000.16.01.H40"),
        ("inter_agency", "Bảo hiểm xã hội cơ sở", "000.18.01.H40"),  # through the authority map
    ],
)
def test_competent_unit_comes_from_the_procedure_and_the_commune(level: str, authority: str, unit: str) -> None:
    assert domain.competent_unit(level, authority, "H40.101", UNITS, AUTHORITIES) == unit


def test_an_authority_with_no_unit_is_an_error_not_a_guess() -> None:
    with pytest.raises(domain.UnresolvedAuthority, match="Sở Không Có"):
        domain.competent_unit("province", "Sở Không Có", "H40.101", UNITS, AUTHORITIES)


def test_inter_agency_route_goes_commune_department_and_back() -> None:
    units = {"receiving": "H40.101", "competent": "000.16.01.H40"}
    assert domain.route(typed("inter-agency"), units) == ["H40.101", "000.16.01.H40", "H40.101"]
    assert domain.route(typed("commune-standard"), {"receiving": "H40.101", "competent": "H40.101"}) == ["H40.101"]


def test_shipped_templates_keep_the_rules() -> None:
    for body in TEMPLATES["templates"].values():
        domain.Workflow(steps=body["steps"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s[2].update(role="specialist"), "only a leader approves"),
        (lambda s: s.pop(3), "exactly one approve, one sign and one return"),
        (lambda s: s[0].update(share=0.5), "add up to 1"),
        (lambda s: s.insert(0, dict(s[0])), "unique"),
        (lambda s: s.append(s.pop(0)), "ends with return"),
    ],
)
def test_a_unit_override_that_breaks_the_rules_is_refused(change, message: str) -> None:
    broken = json.loads(json.dumps(steps("commune-standard")))
    change(broken)
    with pytest.raises(ValidationError, match=message):
        domain.Workflow(steps=broken)


def official(official_id: str, **fields) -> domain.Official:
    return domain.Official(id=official_id, unit="H40.101", roles=["specialist"], **fields)


def test_assignment_prefers_field_then_area_then_the_least_busy() -> None:
    officials = [
        official("a", fields=["Đất đai"], areas=["Thôn 1"], open=5),
        official("b", fields=["Đất đai"], areas=["Thôn 4"], open=1),
        official("c", fields=["Hộ tịch"], areas=[], open=0),
        official("d", fields=["Đất đai"], areas=["Thôn 1"], open=2, active=False),
    ]
    assert domain.pick_official(officials, "Đất đai", "Thôn 1") == "a"  # d is inactive
    assert domain.pick_official(officials, "Đất đai", None) == "b"
    assert domain.pick_official(officials, "Hộ tịch", "Thôn 1") == "c"
    assert domain.pick_official(officials, "Y tế", None) == "c"  # nobody of the field: least busy overall
    assert domain.pick_official([], "Y tế", None) is None
    tied = [official("y", open=1), official("x", open=1)]
    assert domain.pick_official(tied, None, None) == "x"


def test_handing_a_step_over_moves_both_workloads() -> None:
    team = domain.Team([official("a", open=1), official("b")])
    team.hand_over("a", "b")
    team.hand_over(None, "b")
    team.hand_over("b", "b")  # the same holder: nothing moves
    assert [(o.id, o.open) for o in team.saved()] == [("a", 0), ("b", 2)]
    team.hand_over("a", None)
    assert team.get("a").open == 0  # never below zero


def test_step_budget_is_its_share_of_the_office_hours() -> None:
    # received Monday 23/11 07:00, due Friday 27/11 17:00; Tuesday 24/11 is a day off
    received, due = at(23, 7), at(27, 17)
    assert CALENDAR.working_hours_between(received, due) == 32
    assert domain.step_due(CALENDAR, received, due, received, 0.25) == at(23, 17)
    assert domain.step_due(CALENDAR, received, due, received, 5 / 32) == at(23, 14)  # lunch not counted


def dossier(**changes) -> domain.Dossier:
    """A dossier in processing at commune H40.101, due Friday 27/11 17:00."""
    fields = {"code": "X", "commune": "H40.101", "received_at": at(23, 7), "due_at": at(27, 17)}
    return domain.Dossier(**fields | changes)


def next_alarm(d: domain.Dossier):
    return domain.next_alarm(d.pending_alarms(CALENDAR))


def fire(d: domain.Dossier, now: datetime) -> list[str]:
    """Fire what is due at `now` the way the watcher does (each alarm marked given with its date)."""
    names = []
    for event in d.fire_alarms(CALENDAR, now):
        assert isinstance(event, DossierDueSoon | DossierOverdue)
        names.append(
            "due_soon" if isinstance(event, DossierDueSoon) else {"dossier": "overdue"}.get(event.scope, "step_overdue")
        )
    return names


def test_due_soon_one_working_day_before_then_overdue_each_once() -> None:
    d = dossier()
    assert next_alarm(d) == at(26, 17)  # Thursday 17:00
    assert fire(d, at(26, 16, 59)) == []
    assert fire(d, at(26, 17)) == ["due_soon"]
    assert fire(d, at(27, 9)) == []
    assert d.alarm_at == at(27, 17)  # stored for the watcher's query
    assert fire(d, at(27, 17, 1)) == ["overdue"]
    assert fire(d, at(30, 9)) == [] and d.alarm_at is None


def test_a_sweep_after_a_long_outage_says_overdue_not_due_soon() -> None:
    assert fire(dossier(), at(30, 9)) == ["overdue"]


def test_the_clock_pauses_while_waiting_for_a_supplement_and_a_new_date_rearms() -> None:
    d = dossier(step_due_at=at(26, 10))
    assert fire(d, at(26, 17, 5)) == ["due_soon", "step_overdue"]
    d.waiting_for_supplement, d.status = True, domain.WAITING_FOR_SUPPLEMENT
    assert next_alarm(d) is None and fire(d, at(30, 9)) == []
    d.resume(at(2, 17, month=12), 3, CALENDAR)  # resubmitted after three working days: due date moved
    assert d.status == domain.PROCESSING and d.due_at == at(2, 17, month=12)
    assert d.step_due_at == at(1, 10, month=12)  # the step's budget moved by three working days too
    assert next_alarm(d) == at(1, 10, month=12)
    assert fire(d, at(1, 17, month=12)) == ["due_soon", "step_overdue"]


def test_an_apology_moves_the_alarms_to_the_new_date_but_not_the_legal_due_date() -> None:
    d = dossier()
    fire(d, at(26, 17))
    d.apology = domain.Apology(reason="r", new_due_at=at(3, 17, month=12), by="b", at=at(26, 9), unit="H40.101")
    assert d.deadline == at(3, 17, month=12)
    assert fire(d, at(27, 17, 30)) == []  # the old date passing is not an alarm any more
    assert fire(d, at(2, 17, month=12)) == ["due_soon"]
    assert fire(d, at(3, 17, 1, month=12)) == ["overdue"]
    assert domain.classify(at(3, 16, month=12), d.due_at) == "late"  # still late by the legal rule


def test_a_step_past_its_budget_is_overdue_once() -> None:
    d = dossier(step_due_at=at(23, 13, 30))
    assert fire(d, at(23, 13, 31)) == ["step_overdue"]
    assert fire(d, at(23, 15)) == []
    d.step_due_at = at(25, 10)  # next step
    assert fire(d, at(25, 10) + timedelta(minutes=1)) == ["step_overdue"]


def test_closed_dossiers_raise_no_alarms() -> None:
    for status in domain.CLOSED:
        assert next_alarm(dossier(status=status, step_due_at=at(23, 9))) is None


def member(official_id: str, unit: str, *roles: str, active: bool = True) -> domain.Official:
    return domain.Official(_id=official_id, unit=unit, roles=list(roles), active=active)


def test_what_a_change_of_record_grants_counts_the_unit_and_activity() -> None:
    specialist = member("x", "H40.101", "specialist")
    assert domain.granted(specialist, member("x", "H40.101", "specialist", "leader")) == {("H40.101", "leader")}
    assert domain.granted(specialist, member("x", "H40.102", "specialist")) == {("H40.102", "specialist")}
    assert domain.granted(member("x", "H40.101", "leader", active=False), member("x", "H40.101", "leader")) == {
        ("H40.101", "leader")
    }
    assert domain.granted(member("x", "H40.101", "leader"), member("x", "H40.101", "specialist")) == {
        ("H40.101", "specialist")
    }
    assert domain.granted(None, member("x", "H40.101", "admin", active=False)) == set()


def test_leader_and_administrator_grants_need_a_second_administrator_and_none_is_self_granted() -> None:
    admin = member("a", "H40", "admin")
    assert domain.needs_second_administrator(admin, None, member("x", "H40.101", "leader"))
    assert domain.needs_second_administrator(admin, None, member("x", "H40.101", "admin"))
    assert not domain.needs_second_administrator(admin, None, member("x", "H40.101", "receiving", "specialist"))
    for roles in (("admin", "leader"), ("admin", "receiving")):
        with pytest.raises(domain.Forbidden, match="themself"):
            domain.needs_second_administrator(admin, admin, member("a", "H40", *roles))
    assert not domain.needs_second_administrator(admin, admin, member("a", "H40", "admin"))


def test_a_role_change_is_confirmed_once_by_another_administrator_while_it_is_open() -> None:
    asker, confirmer = member("a", "H40", "admin"), member("b", "H40", "admin")
    before = member("x", "H40.101", "specialist").model_copy(update={"open": 3})
    change = domain.RoleChange.ask("c1", asker, before, member("x", "H40.101", "leader"), at(23, 9))
    with pytest.raises(domain.Forbidden, match="second administrator"):
        change.confirm(asker, before, at(23, 10))
    with pytest.raises(domain.Conflict, match="changed since"):
        change.confirm(confirmer, member("x", "H40.101", "receiving"), at(23, 10))
    with pytest.raises(domain.Conflict, match="lapsed"):
        change.confirm(confirmer, before, at(23, 9) + domain.ROLE_CHANGE_OPEN_FOR)
    after = change.confirm(confirmer, before, at(23, 10))
    assert (after.roles, after.open, change.status, change.decided_by) == (["leader"], 3, "confirmed", "b")
    with pytest.raises(domain.Conflict, match="confirmed already"):
        change.confirm(confirmer, before, at(23, 11))


def test_an_apology_is_the_holders_and_its_new_date_is_bounded() -> None:
    d = dossier(status=domain.PROCESSING)
    d.flow = domain.Pin(template="commune-standard", scope="*", version=1, steps=typed("commune-standard"))
    d.step, d.holder_unit, d.holder = 1, "H40.101", "h40101.vanhoa"
    holder = member("h40101.vanhoa", "H40.101", "specialist")
    with pytest.raises(domain.Forbidden, match="holder of the current step"):
        d.apologise(member("h40101.hotich", "H40.101", "specialist"), "r", at(30, 17), CALENDAR, at(23, 9))
    assert d.due_at is not None
    with pytest.raises(domain.Invalid, match="at most 60 days"):
        d.apologise(holder, "r", datetime(9999, 12, 31, 17, tzinfo=LOCAL_TZ), CALENDAR, at(23, 9))
    with pytest.raises(domain.Invalid, match="at most 5 days"):
        d.apologise(holder, "r", d.due_at + timedelta(days=6), CALENDAR, at(23, 9), horizon=timedelta(days=5))
    [apologised] = d.apologise(holder, "r", d.due_at + domain.APOLOGY_HORIZON, CALENDAR, at(23, 9))
    assert apologised.new_due_at == d.due_at + timedelta(days=60)
