"""Deadlines: the paused clock of a supplement request, the apology, the deadline watcher's
alarms for explicit moments, and the forms officers issue."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from motcua_contracts import DossierApologised, DossierDueSoon, DossierOverdue, DossierSupplemented, Event

from services.routing.deadlines import sweep
from services.runtime import utcnow

from .routing_support import CALENDAR, SUPPLEMENT, Routing, pdf_text, running


async def at_review(routing: Routing, code: str, **changes: object) -> None:
    """Received, claimed and forwarded to the specialist's review (h40101.vanhoa: Cư trú)."""
    await routing.receive(code, **changes)
    reception = await routing.officer("h40101.tiepnhan1")
    await reception.post(f"/dossiers/{code}/claim")
    assert (await reception.post(f"/dossiers/{code}/forward")).json()["holder"] == "h40101.vanhoa"


def alarms(events: list[Event]) -> list[tuple[str, str]]:
    return sorted(
        ("due_soon", "") if isinstance(e, DossierDueSoon) else ("overdue", e.scope)
        for e in events
        if isinstance(e, DossierDueSoon | DossierOverdue)
    )


async def swept(routing: Routing, now: datetime) -> list[tuple[str, str]]:
    await sweep(routing.harness.runtime, now)
    return alarms(await routing.emitted())


async def test_a_supplement_request_pauses_the_clock_and_the_resubmission_moves_the_dates(routing: Routing) -> None:
    code = "H40.101-261124-0401"
    await at_review(routing, code)
    specialist = await routing.officer("h40101.vanhoa")
    before = await routing.state(code)
    assert before["alarm_at"] is not None
    assert (await specialist.post(f"/dossiers/{code}/supplement-request", SUPPLEMENT)).status_code == 201
    paused = await routing.state(code)
    assert paused["status"] == "waiting_for_supplement" and paused["alarm_at"] is None
    assert await swept(routing, before["due_at"] + timedelta(days=1)) == []  # no alarm while paused

    new_due = CALENDAR.postpone(before["due_at"], 2)
    await routing.deliver(
        DossierSupplemented(
            dossier_code=code, components=[], supplemented_at=utcnow(), paused_working_days=2, due_at=new_due
        )
    )
    resumed = await routing.state(code)
    assert not resumed["waiting_for_supplement"] and resumed["status"] == "processing"
    assert resumed["due_at"] == new_due and resumed["alarm_at"] is not None
    # the step's budget moved by the same two working days of office hours
    assert CALENDAR.working_hours_between(before["step_due_at"], resumed["step_due_at"]) == 16
    assert (await specialist.post(f"/dossiers/{code}/forward")).status_code == 200


async def test_the_watcher_says_due_soon_overdue_and_step_overdue_each_once(routing: Routing) -> None:
    code = "H40.101-261124-0402"
    await at_review(routing, code)
    stored = await routing.state(code)
    due, step_due = stored["due_at"], stored["step_due_at"]
    await routing.emitted()
    assert await swept(routing, utcnow()) == []
    assert await swept(routing, step_due + timedelta(minutes=1)) == [("overdue", "step")]
    soon = CALENDAR.working_day_before(due) + timedelta(minutes=5)
    assert await swept(routing, soon) == [("due_soon", "")]
    assert await swept(routing, soon + timedelta(hours=1)) == []
    assert await swept(routing, due + timedelta(minutes=1)) == [("overdue", "dossier")]
    assert await swept(routing, due + timedelta(days=3)) == []  # once, however often it looks
    assert (await routing.state(code))["alarm_at"] is None

    metrics = await routing.client.get("/metrics", follow_redirects=True)
    assert 'motcua_deadline_sweeps_total{service="routing"} 6.0' in metrics.text


async def test_a_sweep_after_a_long_outage_says_overdue_not_due_soon(routing: Routing) -> None:
    code = "H40.101-261124-0403"
    await routing.receive(code)
    due = (await routing.state(code))["due_at"]
    await routing.emitted()
    assert await swept(routing, due + timedelta(days=2)) == [("overdue", "dossier"), ("overdue", "step")]


async def test_an_apology_is_allowed_once_and_only_before_the_due_date(routing: Routing) -> None:
    code = "H40.101-261124-0404"
    await at_review(routing, code)
    due = (await routing.state(code))["due_at"]
    reception, specialist = (await routing.officers("h40101.tiepnhan1", "h40101.vanhoa")).values()
    new_date = CALENDAR.postpone(due, 3)
    body = {"reason": "Chờ xác minh thông tin cư trú", "new_due_at": new_date.isoformat()}
    by_reception = await reception.post(f"/dossiers/{code}/apology", body)
    assert by_reception.status_code == 403 and "only a specialist or a leader apologises" in by_reception.text
    earlier = await specialist.post(f"/dossiers/{code}/apology", body | {"new_due_at": due.isoformat()})
    assert earlier.status_code == 422 and "later than the due date" in earlier.text
    await routing.emitted()

    sorry = await specialist.post(f"/dossiers/{code}/apology", body)
    assert sorry.status_code == 201, sorry.text
    assert datetime.fromisoformat(sorry.json()["new_due_at"]) == new_date
    assert sorry.json()["form"] == f"/dossiers/{code}/forms/apology.pdf"
    [apologised] = await routing.emitted()
    assert isinstance(apologised, DossierApologised) and apologised.due_at == due
    twice = await specialist.post(f"/dossiers/{code}/apology", body | {"reason": "Lần nữa"})
    assert twice.status_code == 409 and "once" in twice.text

    # alarms follow the new date: the old one passing says nothing about the dossier
    assert ("overdue", "dossier") not in await swept(routing, due + timedelta(hours=1))
    assert await swept(routing, new_date + timedelta(minutes=1)) == [("overdue", "dossier")]

    late = "H40.101-261124-0405"
    now = utcnow()
    await at_review(routing, late, received_at=now - timedelta(days=14), due_at=now - timedelta(hours=1))
    too_late = await specialist.post(f"/dossiers/{late}/apology", body)
    assert too_late.status_code == 409 and "already past its due date" in too_late.text


async def test_only_the_holder_of_the_step_apologises_and_the_new_date_is_bounded(routing: Routing) -> None:
    code = "H40.101-261124-0410"
    await at_review(routing, code)  # held by h40101.vanhoa
    due = (await routing.state(code))["due_at"]
    team = await routing.officers("h40101.hotich", "h40101.chutich", "h40101.vanhoa")
    colleague, leader, holder = team.values()
    body = {"reason": "Chờ xác minh thông tin cư trú", "new_due_at": CALENDAR.postpone(due, 3).isoformat()}
    for other in (colleague, leader):  # a specialist and a leader of the unit who do not hold the step
        refused = await other.post(f"/dossiers/{code}/apology", body)
        assert refused.status_code == 403, refused.text
        assert "only the holder of the current step apologises" in refused.text and holder.id in refused.text

    far = await holder.post(f"/dossiers/{code}/apology", body | {"new_due_at": "9999-12-31T17:00:00+07:00"})
    assert far.status_code == 422 and "at most 60 days after the due date" in far.text
    just_over = (due + timedelta(days=60, minutes=1)).isoformat()
    assert (await holder.post(f"/dossiers/{code}/apology", body | {"new_due_at": just_over})).status_code == 422
    assert (await routing.state(code)).get("apology") is None
    assert not [e for e in await routing.emitted() if isinstance(e, DossierApologised)]

    at_the_limit = due + timedelta(days=60)
    sorry = await holder.post(f"/dossiers/{code}/apology", body | {"new_due_at": at_the_limit.isoformat()})
    assert sorry.status_code == 201 and datetime.fromisoformat(sorry.json()["new_due_at"]) == at_the_limit
    trail = (await leader.get("/audit", dossier=code)).json()["entries"]
    assert [(e["official"], e["outcome"]) for e in trail if e["action"] == "apologise"] == [
        (holder.id, "allowed"),
        (holder.id, "invalid"),
        (holder.id, "invalid"),
        (leader.id, "forbidden"),
        (colleague.id, "forbidden"),
    ]


async def test_the_apology_horizon_is_a_setting(tmp_path: Path) -> None:
    async with running(tmp_path, apology_horizon_days=10) as routing:
        code = "H40.101-261124-0411"
        await at_review(routing, code)
        due = (await routing.state(code))["due_at"]
        holder = await routing.officer("h40101.vanhoa")
        body = {"reason": "Chờ xác minh", "new_due_at": (due + timedelta(days=11)).isoformat()}
        refused = await holder.post(f"/dossiers/{code}/apology", body)
        assert refused.status_code == 422 and "at most 10 days" in refused.text
        body["new_due_at"] = (due + timedelta(days=10)).isoformat()
        assert (await holder.post(f"/dossiers/{code}/apology", body)).status_code == 201


async def test_a_result_returned_after_the_due_date_is_late(routing: Routing) -> None:
    code = "H40.101-261124-0406"
    now = utcnow()
    leader = await routing.to_approval(code, received_at=now - timedelta(days=14), due_at=now - timedelta(days=2))
    await routing.digitised_and_free(code)
    await leader.post(f"/dossiers/{code}/approval")
    await routing.signed(code)
    done = await (await routing.officer("h40101.tiepnhan1")).post(f"/dossiers/{code}/return")
    assert done.json()["outcome"] == "late" and done.json()["overdue"] is False  # closed: no longer overdue


async def test_the_forms_officers_issue_are_pdfs_in_vietnamese(routing: Routing, tmp_path: Path) -> None:
    asked, sorry, refused = "H40.101-261124-0407", "H40.101-261124-0408", "H40.101-261124-0409"
    for code in (asked, sorry, refused):
        await at_review(routing, code)
    specialist = await routing.officer("h40101.vanhoa")
    assert (await specialist.get(f"/dossiers/{asked}/forms/supplement-request.pdf")).status_code == 404  # none yet
    await specialist.post(f"/dossiers/{asked}/supplement-request", SUPPLEMENT)
    new_date = CALENDAR.postpone((await routing.state(sorry))["due_at"], 3).isoformat()
    await specialist.post(f"/dossiers/{sorry}/apology", {"reason": "Chờ xác minh cư trú", "new_due_at": new_date})
    await specialist.post(f"/dossiers/{refused}/refusal", {"reason": "Không đủ điều kiện đăng ký thường trú"})

    expected = {
        (asked, "supplement-request"): ["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", SUPPLEMENT["documents"][0]],
        (sorry, "apology"): ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Chờ xác minh cư trú"],
        (refused, "refusal"): ["PHIẾU TỪ CHỐI GIẢI QUYẾT HỒ SƠ", "Không đủ điều kiện đăng ký thường trú"],
    }
    for (code, kind), lines in expected.items():
        form = await specialist.get(f"/dossiers/{code}/forms/{kind}.pdf")
        assert form.status_code == 200 and form.headers["content-type"] == "application/pdf"
        text = pdf_text(form.content, tmp_path)
        assert code in text and "Nguyễn Văn An" in text and all(line in text for line in lines), text
    assert (await specialist.get(f"/dossiers/{asked}/forms/refusal.pdf")).status_code == 404
