"""Due dates and office hours by the legal rules, pinned on real 2026 dates (Tết, 30/4–1/5, 2/9, swaps)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from services.runtime.calendar import WorkCalendar
from services.runtime.clock import LOCAL_TZ

CALENDAR = WorkCalendar()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        (at(2026, 11, 16, 9), 1, date(2026, 11, 17)),  # Monday → Tuesday: the day of receipt is not counted
        (at(2026, 11, 20, 9), 1, date(2026, 11, 23)),  # Friday → Monday, weekend skipped
        (at(2026, 2, 13, 10), 1, date(2026, 2, 23)),  # Friday before Tết: 16–20 Feb off, back Monday 23
        (at(2026, 2, 12, 10), 3, date(2026, 2, 24)),  # Thursday: Fri 13, Mon 23, Tue 24
        (at(2026, 4, 29, 9), 1, date(2026, 5, 4)),  # 30/4 and 1/5 off, then the weekend
        (at(2026, 4, 24, 9), 1, date(2026, 4, 28)),  # Hùng Kings (Sun 26/4, lunar 10/3) moved to Mon 27/4
        (at(2026, 8, 21, 10), 1, date(2026, 8, 22)),  # Saturday 22/8 is a make-up working day...
        (at(2026, 8, 28, 10), 1, date(2026, 9, 3)),  # ...for Monday 31/8; then 1/9 and 2/9 National Day
        (at(2026, 11, 20, 9), 2, date(2026, 11, 25)),  # 24/11, Vietnamese Culture Day, is off
    ],
)
def test_working_day_periods(received: datetime, days: int, due: date) -> None:
    result = CALENDAR.due_at(received, days, "working")
    assert (result.date(), result.time()) == (due, time(17, 0))


def test_after_the_cut_off_hour_a_dossier_counts_as_received_the_next_working_day() -> None:
    monday_4pm = at(2026, 11, 16, 16)
    assert CALENDAR.due_at(monday_4pm, 1, "working").date() == date(2026, 11, 17)
    assert CALENDAR.due_at(monday_4pm, 1, "working", cutoff=time(15, 0)).date() == date(2026, 11, 18)


def test_outside_office_hours_and_on_days_off_counts_from_the_next_working_day() -> None:
    assert CALENDAR.receipt_day(at(2026, 11, 16, 18)) == date(2026, 11, 17)  # Monday evening
    assert CALENDAR.receipt_day(at(2026, 11, 16, 6)) == date(2026, 11, 16)  # early morning, same day
    assert CALENDAR.receipt_day(at(2026, 11, 21, 10)) == date(2026, 11, 23)  # Saturday
    assert CALENDAR.receipt_day(at(2026, 2, 17, 10)) == date(2026, 2, 23)  # Tết
    # Monday 23/11 18:00 → Tuesday 24/11 is a holiday → received Wednesday 25/11, due Thursday 26/11
    assert CALENDAR.due_at(at(2026, 11, 23, 18), 1, "working").date() == date(2026, 11, 26)


def test_calendar_day_periods_ending_on_a_day_off_end_on_the_next_working_day() -> None:
    assert CALENDAR.due_at(at(2026, 11, 16, 9), 10, "calendar").date() == date(2026, 11, 26)
    assert CALENDAR.due_at(at(2026, 11, 23, 10), 5, "calendar").date() == date(2026, 11, 30)  # Sat 28 → Mon 30
    assert CALENDAR.due_at(at(2026, 2, 6, 10), 10, "calendar").date() == date(2026, 2, 23)  # 16/2 in Tết


def test_a_province_calendar_file_adds_days_off_and_working_days(tmp_path: Path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"days_off": ["2026-11-17"], "working_days": ["2026-11-21"]}))
    calendar = WorkCalendar.load(path)
    assert not calendar.is_working_day(date(2026, 11, 17))
    assert calendar.is_working_day(date(2026, 11, 21))
    assert calendar.due_at(at(2026, 11, 20, 9), 1, "working").date() == date(2026, 11, 21)
    assert calendar.due_at(at(2026, 11, 16, 9), 1, "working").date() == date(2026, 11, 18)


def test_a_paused_clock_moves_the_due_date_by_the_working_days_paused() -> None:
    # supplement requested Friday 13/2 (before Tết), resubmitted Tuesday 24/2: paused Mon 23, Tue 24
    paused = CALENDAR.working_days_between(date(2026, 2, 13), date(2026, 2, 24))
    assert paused == 2
    due = at(2026, 2, 25, 17)
    assert CALENDAR.postpone(due, paused) == at(2026, 2, 27, 17)
    assert CALENDAR.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert CALENDAR.postpone(at(2026, 11, 23, 17), 1) == at(2026, 11, 25, 17)  # over 24/11


def test_paused_working_days_follow_the_receipt_rules_at_both_ends() -> None:
    from services.intake.domain import paused_working_days

    # sent back Monday 16/11 10:00, resubmitted Wednesday 18/11 10:00: Monday and Tuesday were lost
    assert paused_working_days(CALENDAR, at(2026, 11, 16, 10), at(2026, 11, 18, 10)) == 2
    # sent back Monday after hours: the pause takes effect Tuesday
    assert paused_working_days(CALENDAR, at(2026, 11, 16, 18), at(2026, 11, 18, 10)) == 1
    # the same day, or both on a Sunday: nothing lost
    assert paused_working_days(CALENDAR, at(2026, 11, 16, 10), at(2026, 11, 16, 15)) == 0
    assert paused_working_days(CALENDAR, at(2026, 11, 22, 10), at(2026, 11, 22, 15)) == 0
    # sent back Friday 13/2 before Tết, resubmitted Tuesday 24/2: Friday and Monday 23 lost
    assert paused_working_days(CALENDAR, at(2026, 2, 13, 10), at(2026, 2, 24, 10)) == 2


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (at(2026, 11, 20, 15), 4, at(2026, 11, 23, 9)),  # Friday 15:00 → Monday 09:00 over the weekend
        (at(2026, 11, 16, 10, 30), 2, at(2026, 11, 16, 14, 30)),  # the lunch break 11:30–13:30 is skipped
        (at(2026, 11, 16, 10, 30), 1, at(2026, 11, 16, 11, 30)),  # ends at noon, not at 13:30
        (at(2026, 11, 16, 15), 2, at(2026, 11, 16, 17)),  # ends at 17:00, not the next morning
        (at(2026, 11, 16, 12), 1, at(2026, 11, 16, 14, 30)),  # started at lunch: counts from 13:30
        (at(2026, 11, 16, 18), 1.5, at(2026, 11, 17, 8, 30)),  # started after hours: next morning
        (at(2026, 11, 21, 10), 8, at(2026, 11, 23, 17)),  # started Saturday: a full Monday
        (at(2026, 2, 13, 16), 2, at(2026, 2, 23, 8)),  # Friday before Tết, then 16–20 Feb off
        (at(2026, 8, 21, 16), 2, at(2026, 8, 22, 8)),  # Saturday 22/8 is a make-up working day
        (at(2026, 8, 28, 16), 2, at(2026, 9, 3, 8)),  # 31/8, 1/9 and 2/9 National Day off
        (at(2026, 11, 23, 16), 2, at(2026, 11, 25, 8)),  # Tuesday 24/11 off
    ],
)
def test_adding_working_hours_counts_office_hours_on_working_days(start: datetime, hours: float, end: datetime) -> None:
    result = CALENDAR.add_working_hours(start, hours)
    assert result == end
    assert result.tzinfo is LOCAL_TZ


def test_adding_no_working_hours_returns_the_start_unchanged() -> None:
    saturday = at(2026, 11, 21, 10)
    assert CALENDAR.add_working_hours(saturday, 0) is saturday
    assert CALENDAR.add_working_hours(saturday, -1) is saturday


def test_working_hours_are_counted_in_local_time() -> None:
    friday_9am_local = datetime(2026, 11, 20, 2, tzinfo=UTC)
    assert CALENDAR.add_working_hours(friday_9am_local, 1) == at(2026, 11, 20, 10)
    assert CALENDAR.add_working_hours(friday_9am_local, 1).tzinfo is LOCAL_TZ
    assert CALENDAR.working_hours_between(friday_9am_local, at(2026, 11, 20, 10)) == 1


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2026, 11, 20, 16), at(2026, 11, 23, 8), 2),  # Friday 16:00 → Monday 08:00
        (at(2026, 11, 16, 10, 30), at(2026, 11, 16, 14, 30), 2),  # over the lunch break
        (at(2026, 11, 16, 12), at(2026, 11, 16, 13), 0),  # inside the lunch break
        (at(2026, 11, 16, 18), at(2026, 11, 17, 6), 0),  # overnight
        (at(2026, 11, 16), at(2026, 11, 17), 8),  # a whole working day
        (at(2026, 11, 16), at(2026, 11, 23), 40),  # a working week
        (at(2026, 11, 23), at(2026, 11, 30), 32),  # with Tuesday 24/11 off
        (at(2026, 2, 13, 16), at(2026, 2, 23, 8), 2),  # over Tết
        (at(2026, 8, 22), at(2026, 8, 23), 8),  # the make-up Saturday
        (at(2026, 11, 16, 15), at(2026, 11, 16, 9), 0),  # end before start
        (at(2026, 11, 16, 9), at(2026, 11, 16, 9), 0),
    ],
)
def test_working_hours_between_two_moments(start: datetime, end: datetime, hours: float) -> None:
    assert CALENDAR.working_hours_between(start, end) == hours


def test_adding_working_hours_and_counting_them_back_agree() -> None:
    rng = random.Random(20260216)
    sessions = [(time(7), 270), (time(13, 30), 210)]  # opening time, session length in minutes
    for _ in range(200):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        if not CALENDAR.is_working_day(day):
            continue
        opens, minutes = rng.choice(sessions)
        start = datetime.combine(day, opens, LOCAL_TZ) + timedelta(minutes=rng.randrange(minutes))
        hours = rng.randrange(1, 60 * 80) / 60
        end = CALENDAR.add_working_hours(start, hours)
        assert end > start
        assert CALENDAR.working_hours_between(start, end) == pytest.approx(hours, abs=1e-6)


@pytest.mark.parametrize(
    ("due", "warn"),
    [
        (at(2026, 11, 18, 17), at(2026, 11, 17, 17)),  # Wednesday → Tuesday
        (at(2026, 11, 23, 17), at(2026, 11, 20, 17)),  # Monday → the Friday before
        (at(2026, 11, 25, 9, 30), at(2026, 11, 23, 9, 30)),  # Wednesday → Monday, over 24/11 off
        (at(2026, 2, 23, 17), at(2026, 2, 13, 17)),  # Monday after Tết → Friday 13/2 before it
        (at(2026, 9, 3, 17), at(2026, 8, 28, 17)),  # after 31/8–2/9 off → Friday 28/8
        (at(2026, 8, 24, 17), at(2026, 8, 22, 17)),  # Monday → the make-up Saturday 22/8
    ],
)
def test_the_working_day_before_keeps_the_time_of_day(due: datetime, warn: datetime) -> None:
    result = CALENDAR.working_day_before(due)
    assert result == warn
    assert result.tzinfo is LOCAL_TZ
    assert CALENDAR.working_day_before(due.astimezone(UTC)) == warn
