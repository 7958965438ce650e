"""The legal working calendar (lịch làm việc) and deadline arithmetic.

Statutory public holidays, lunar ones and each year's official day swaps come from
the `holidays` library (Vietnam); a province's own decisions, or a year the library
does not know yet, come from a calendar file (`MOTCUA_CALENDAR_FILE`, JSON):

    {"days_off": ["2027-02-05"], "working_days": ["2027-01-30"]}

Rules (Civil Code and the one-stop rules): the day of receipt is not counted; a
dossier received after the cut-off hour, outside office hours or on a non-working
day counts as received on the next working day; a period in calendar days that ends
on a non-working day ends on the next working day; results are due at the end of
office hours. Office hours are 07:00–11:30 and 13:30–17:00 (8 hours a working day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

import holidays

from .clock import LOCAL_TZ

DayKind = Literal["working", "calendar"]
MORNING_SESSION = (time(7, 0), time(11, 30))
AFTERNOON_SESSION = (time(13, 30), time(17, 0))
OFFICE_SESSIONS = (MORNING_SESSION, AFTERNOON_SESSION)
OFFICE_OPENS = MORNING_SESSION[0]
OFFICE_CLOSES = AFTERNOON_SESSION[1]


def _hours(session: tuple[time, time]) -> float:
    opens, closes = session
    return (closes.hour * 60 + closes.minute - opens.hour * 60 - opens.minute) / 60


HOURS_PER_WORKING_DAY = sum(_hours(session) for session in OFFICE_SESSIONS)
"""Office hours in one working day (8): a paused working day moves a step's budget by this much."""


@dataclass(frozen=True)
class WorkCalendar:
    days_off: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: str | Path | None = None) -> WorkCalendar:
        if path is None:
            return cls()
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            days_off=frozenset(date.fromisoformat(d) for d in data.get("days_off", [])),
            working_days=frozenset(date.fromisoformat(d) for d in data.get("working_days", [])),
        )

    @cached_property
    def _statutory(self) -> holidays.HolidayBase:
        return holidays.country_holidays("VN")

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off or day in self._statutory:
            return False
        return day.weekday() < 5 or day in self._statutory.weekend_workdays

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day before `day`."""
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def _sessions(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office sessions of `day` as local (opens, closes) pairs; none on a day off."""
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, opens, LOCAL_TZ), datetime.combine(day, closes, LOCAL_TZ))
            for opens, closes in OFFICE_SESSIONS
        ]

    def receipt_day(self, received_at: datetime, cutoff: time = OFFICE_CLOSES) -> date:
        """The day a dossier counts as received on (local time)."""
        local = received_at.astimezone(LOCAL_TZ)
        in_hours = OFFICE_OPENS <= local.time() < min(cutoff, OFFICE_CLOSES)
        if self.is_working_day(local.date()) and (in_hours or local.time() < OFFICE_OPENS):
            return local.date()
        return self.next_working_day(local.date())

    def due_at(
        self, received_at: datetime, days: int, kind: DayKind = "working", cutoff: time = OFFICE_CLOSES
    ) -> datetime:
        """Appointment time for a dossier taking `days` working or calendar days."""
        day = self.receipt_day(received_at, cutoff)
        if kind == "working":
            for _ in range(days):
                day = self.next_working_day(day)
        else:
            day += timedelta(days=days)
            if not self.is_working_day(day):
                day = self.next_working_day(day)
        return datetime.combine(day, OFFICE_CLOSES, LOCAL_TZ)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if `end` is not later)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def postpone(self, due_at: datetime, working_days: int) -> datetime:
        """`due_at` moved later by `working_days` working days (a paused clock)."""
        day = due_at.astimezone(LOCAL_TZ).date()
        for _ in range(working_days):
            day = self.next_working_day(day)
        return datetime.combine(day, OFFICE_CLOSES, LOCAL_TZ)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours on working days from `start` to `end` (0 if `end` is not later)."""
        start, end = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
        total, day = timedelta(), start.date()
        while day <= end.date():
            for opens, closes in self._sessions(day):
                total += max(timedelta(), min(closes, end) - max(opens, start))
            day += timedelta(days=1)
        return total / timedelta(hours=1)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` office hours after `start`; a budget used up exactly at the
        end of a session ends there. Counting outside office hours begins at the next
        opening; `hours` <= 0 returns `start` unchanged."""
        if hours <= 0:
            return start
        cursor, remaining = start.astimezone(LOCAL_TZ), timedelta(hours=hours)
        day = cursor.date()
        while True:
            for opens, closes in self._sessions(day):
                begin = max(opens, cursor)
                if begin >= closes:
                    continue
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
            day = self.next_working_day(day)

    def working_day_before(self, moment: datetime) -> datetime:
        """The same local time of day on the last working day before `moment`'s local date."""
        local = moment.astimezone(LOCAL_TZ)
        return datetime.combine(self.previous_working_day(local.date()), local.time(), LOCAL_TZ)
