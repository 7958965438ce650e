"""Answers from the read models: a scope's figures for a period, its index, the communes'
ranking, trends, breakdowns and the late or soon-due dossiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from services.runtime.clock import local, utcnow
from services.runtime.documents import Reader
from services.runtime.units import Units

from . import figures as f
from .facts import instant
from .index import Index, rank
from .store import FIGURES

Level = Literal["commune", "department", "province"]
MAX_DAYS = 5 * 366  # the longest period one question may span


class BadQuestion(ValueError):
    """A question stats cannot answer as asked (an unknown unit, a reversed period): 4xx."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None, today: date | None = None) -> Period:
        """`start`–`end` (local dates, both included); by default the year to date."""
        today = today or local(utcnow()).date()
        end = end or today
        start = start or date(end.year, 1, 1)
        if start > end:
            raise BadQuestion(f"the period starts ({start}) after it ends ({end})")
        if (end - start).days > MAX_DAYS:
            raise BadQuestion(f"a period may span at most {MAX_DAYS} days")
        return cls(start, end)

    def days(self) -> list[str]:
        return [(self.start + timedelta(days=n)).isoformat() for n in range((self.end - self.start).days + 1)]

    def public(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class Scope:
    unit: str | None  # None: the province
    name: str
    level: Level
    field: str | None = None
    procedure: str | None = None
    channel: str | None = None

    @classmethod
    def of(cls, units: Units, unit: str | None, **filters: str | None) -> Scope:
        if unit in (None, "", units.province.code):
            return cls(None, units.province.name, "province", **filters)
        if unit in units.communes:
            return cls(unit, units.communes[unit].name, "commune", **filters)
        if unit in units.departments:
            return cls(unit, units.departments[unit].name, "department", **filters)
        raise BadQuestion(f"no unit {unit!r} in the province")

    def where(self) -> dict[str, Any]:
        where = {"unit": self.unit, "field": self.field, "procedure": self.procedure, "channel": self.channel}
        return {name: value for name, value in where.items() if value is not None}

    def public(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "unit_name": self.name,
            "level": self.level,
            "field": self.field,
            "procedure": self.procedure,
            "channel": self.channel,
        }


async def rows(
    reader: Reader, generation: int, where: Mapping[str, Any], period: Period | None, since: bool, fine: bool = False
) -> list:
    """Day rows matching `where` within `period` (or, with `since` false, up to its end): the
    per-unit rows when `where` asks of units only and no `fine` split is wanted, else the finer ones."""
    _, days, units = FIGURES.collections(generation)
    collection = units if set(where) <= {"unit"} and not fine else days
    query: dict[str, Any] = dict(where)
    if period is not None:
        query["day"] = (
            {"$gte": period.start.isoformat(), "$lte": period.end.isoformat()}
            if since
            else {"$lte": period.end.isoformat()}
        )
    return await reader.find(collection, query)


async def figures(reader: Reader, generation: int, scope: Scope, period: Period) -> dict[str, Any]:
    """The scope's figures for the period, with what was carried over and is still open."""
    history = await rows(reader, generation, scope.where(), period, since=False)
    before = [row for row in history if row["day"] < period.start.isoformat()]
    within = [row for row in history if row["day"] >= period.start.isoformat()]
    sums = f.total(within)
    carried = sum(row.get(f.OPEN, 0) for row in before)
    overdue, soon = await open_dossiers(reader, generation, scope)
    public = {name: value for name, value in sums.items() if name != f.OPEN}
    return {
        "scope": scope.public(),
        "period": period.public(),
        "counters": public,
        "carried_over": carried,
        "in_progress": carried + sums[f.OPEN],
        "overdue_now": len(overdue),
        "due_soon_now": len(soon),
        "rates": f.rates(sums),
    }


async def open_dossiers(
    reader: Reader, generation: int, scope: Scope, soon: timedelta = timedelta(days=1)
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scope's open dossiers past their appointment time, and those due within `soon`."""
    dossiers = FIGURES.collections(generation)[0]
    now = utcnow()
    where: dict[str, Any] = {"open": True, "due_at": {"$lt": instant(now + soon)}}
    if scope.unit:
        where["unit"] = scope.unit
    found = await reader.find(dossiers, where, order=[("due_at", 1)])
    if scope.field:
        found = [d for d in found if d.get("field") == scope.field]
    cut = instant(now)
    return [d for d in found if d["due_at"] < cut], [d for d in found if d["due_at"] >= cut]


def dossier_row(document: Mapping[str, Any], units: Units) -> dict[str, Any]:
    unit = units.get(document["unit"])
    return {
        "code": document["_id"],
        "unit": document["unit"],
        "unit_name": unit.name if unit else document["unit"],
        "procedure_name": document.get("procedure_name"),
        "field": document.get("field"),
        "received_at": document.get("received_at"),
        "due_at": document["due_at"],
        "holder": document.get("holder"),
    }


def by_unit(found: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row["unit"]].append(row)
    return grouped


def scored(index: Index, sums: Mapping[str, int]) -> dict[str, Any]:
    return index.score(sums, f.rates(sums))


def active(sums: Mapping[str, int]) -> bool:
    """A unit had something to be judged on in the period: a dossier received or closed, or a complaint."""
    return any(sums[name] for name in ("received", "resolved", "withdrawn", "complaints"))


async def ranking(reader: Reader, generation: int, units: Units, index: Index, period: Period) -> list[dict]:
    """Every commune's index for the period, best first; communes with no dossier in the period
    are listed after the ranked ones, unranked (an index of nothing would give them full marks)."""
    grouped = by_unit(await rows(reader, generation, {}, period, since=True))
    sums = {code: f.total(grouped.get(code, [])) for code in units.communes}
    results = {code: scored(index, sums[code]) for code in units.communes if active(sums[code])}
    places = rank({code: result["score"] for code, result in results.items()})
    table = []
    for code, unit in units.communes.items():
        result, rates = results.get(code), f.rates(sums[code])
        table.append(
            {
                "unit": code,
                "name": unit.name,
                "score": result["score"] if result else None,
                "groups": {group["id"]: group["score"] for group in result["groups"]} if result else {},
                "rank": places[code][0] if result else None,
                "of": len(places),
                "received": sums[code]["received"],
                "resolved": sums[code]["resolved"],
                "early_or_on_time_rate": rates["early_or_on_time_rate"],
                "online_rate": rates["online_rate"],
            }
        )
    return sorted(table, key=lambda row: (row["rank"] is None, row["rank"] or 0, row["unit"]))


async def trend(reader: Reader, generation: int, scope: Scope, period: Period) -> list[dict[str, Any]]:
    """One entry per day of the period; `in_progress` is what stood open at each day's end."""
    history = await rows(reader, generation, scope.where(), period, since=False)
    open_before = sum(row.get(f.OPEN, 0) for row in history if row["day"] < period.start.isoformat())
    per_day: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in history:
        per_day[row["day"]].append(row)
    series = []
    for day in period.days():
        sums = f.total(per_day.get(day, []))
        open_before += sums[f.OPEN]
        rates = f.rates(sums)
        series.append(
            {
                "day": day,
                "received": sums["received"],
                "resolved": sums["resolved"],
                "online": sums["online"],
                "late": sums["late"],
                "early_or_on_time_rate": rates["early_or_on_time_rate"],
                "online_rate": rates["online_rate"],
                "in_progress": open_before,
            }
        )
    return series


BREAKDOWNS = ("field", "procedure", "channel", "commune")


async def breakdown(
    reader: Reader, generation: int, units: Units, scope: Scope, period: Period, by: str
) -> list[dict[str, Any]]:
    if by not in BREAKDOWNS:
        raise BadQuestion(f"breakdown by one of {', '.join(BREAKDOWNS)}")
    found = await rows(reader, generation, scope.where(), period, since=True, fine=by != "commune")
    key = "unit" if by == "commune" else by
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row[key]].append(row)
    table = []
    for value, group in grouped.items():
        sums = f.total(group)
        name = group[0].get("procedure_name", value) if by == "procedure" else value
        if by == "commune":
            unit = units.get(value)
            name = unit.name if unit else value
        table.append({"key": value, "name": name, "counters": sums, "rates": f.rates(sums)})
    return sorted(table, key=lambda row: (-row["counters"]["received"], row["key"]))
