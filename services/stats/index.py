"""The national service index (Bộ chỉ số phục vụ người dân, doanh nghiệp, Decision 766/QĐ-TTg).

Its groups, indicators, points and formulas are data (`data/service_index.toml`), checked when
loaded; `Index.score` turns a scope's figures into points and `rank` orders units by them. No I/O
beyond reading the file.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.stats.figures import COUNTERS, percent, rates

DEFAULT = Path(__file__).parent / "data" / "service_index.toml"
MAX = 100
RATES = tuple(rates(dict.fromkeys(COUNTERS, 0)))
KEYS = {"id", "group", "name", "weight", "value", "numerator", "denominator", "declared", "full_at", "zero_at"}


@dataclass(frozen=True)
class Indicator:
    """One indicator: where its percent comes from and how many points it earns."""

    id: str
    name: str
    weight: float
    rate: str | None = None  # a rate of `figures.rates`
    numerator: tuple[str, ...] = ()  # counters added up
    denominator: tuple[str, ...] = ()
    declared: float | None = None  # the province's own figure: a setting, not from events
    full_at: float = 100
    zero_at: float = 0

    def value(self, counters: Mapping[str, int], shares: Mapping[str, float | None]) -> float | None:
        """The percent scored on; None when there is nothing to divide."""
        if self.declared is not None:
            return float(self.declared)
        if self.rate:
            return shares[self.rate]
        return percent(sum(counters[c] for c in self.numerator), sum(counters[c] for c in self.denominator))

    def points(self, value: float | None) -> float:
        """Linear between `zero_at` and `full_at`. Nothing to count earns the full weight: a unit is
        not faulted for what it had no occasion to do (no late dossier, no complaint), as the
        national index does."""
        if value is None or value >= self.full_at:
            return float(self.weight)
        return max(0.0, self.weight * (value - self.zero_at) / (self.full_at - self.zero_at))

    def row(self, counters: Mapping[str, int], shares: Mapping[str, float | None]) -> dict[str, Any]:
        """The indicator as the index shows it."""
        value = self.value(counters, shares)
        score = round(self.points(value), 2)
        lost = round(self.weight - score, 2)
        shown = {"id": self.id, "name": self.name, "weight": self.weight, "score": score, "lost": lost}
        return shown | {"value": value, "applicable": value is not None, "formula": self.formula}

    @property
    def formula(self) -> str:
        """The formula in words, e.g. "(early + on_time) / resolved, full at 100%"."""
        if self.declared is not None:
            return f"declared by the province: {self.declared:g}%"
        text = self.rate or f"{_terms(self.numerator)} / {_terms(self.denominator)}"
        text += f", full at {self.full_at:g}%"
        return text + (f", zero at {self.zero_at:g}%" if self.zero_at else "")


@dataclass(frozen=True)
class Group:
    """A group of indicators (nhóm chỉ số); its weight is the sum of theirs."""

    id: str
    name: str
    weight: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Index:
    """The whole index: groups weighing 100 points together."""

    groups: tuple[Group, ...]

    def score(self, counters: Mapping[str, int], shares: Mapping[str, float | None]) -> dict[str, Any]:
        """The points of every indicator, group and the whole, 2 decimals; groups and the total
        are sums of the rounded parts, so what is shown adds up."""
        groups = []
        for group in self.groups:
            rows = [indicator.row(counters, shares) for indicator in group.indicators]
            total = round(sum(row["score"] for row in rows), 2)
            groups.append(
                {"id": group.id, "name": group.name, "weight": group.weight, "score": total, "indicators": rows}
            )
        return {"score": round(sum(g["score"] for g in groups), 2), "max": MAX, "groups": groups}


def rank(scores: Mapping[str, float]) -> dict[str, tuple[int, int]]:
    """Each unit's (rank, of) by score, highest first; equal scores share a rank (1, 2, 2, 4)."""
    first: dict[float, int] = {}
    for place, score in enumerate(sorted(scores.values(), reverse=True), start=1):
        first.setdefault(score, place)
    return {unit: (first[score], len(scores)) for unit, score in scores.items()}


def load(path: Path = DEFAULT) -> Index:
    """The index in `path`, checked: a bad file raises ValueError naming the group or indicator."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, dict[str, Any]] = {}
    for raw in data.get("groups", []):
        gid = raw.get("id", "?")
        if gid in groups or not isinstance(raw.get("name"), str) or not _positive(raw.get("weight")):
            raise ValueError(f"group {gid}: needs a unique id, a name and a positive weight")
        groups[gid] = raw
    members: dict[str, list[Indicator]] = {gid: [] for gid in groups}
    for raw in data.get("indicators", []):
        indicator = _indicator(raw.get("id", "?"), raw)
        if any(indicator.id == other.id for group in members.values() for other in group):
            raise ValueError(f"indicator {indicator.id}: listed twice")
        if raw.get("group") not in groups:
            raise ValueError(f"indicator {indicator.id}: unknown group {raw.get('group')!r}")
        members[raw["group"]].append(indicator)
    for gid, group in groups.items():
        if not math.isclose(total := sum(ind.weight for ind in members[gid]), group["weight"]):
            raise ValueError(f"group {gid}: its indicators weigh {total:g}, not {group['weight']:g}")
    if not math.isclose(total := sum(g["weight"] for g in groups.values()), MAX):
        raise ValueError(f"groups: they weigh {total:g}, not {MAX}")
    return Index(tuple(Group(gid, g["name"], g["weight"], tuple(members[gid])) for gid, g in groups.items()))


def _indicator(name: str, raw: dict[str, Any]) -> Indicator:
    def fail(why: str) -> ValueError:
        return ValueError(f"indicator {name}: {why}")

    if unknown := set(raw) - KEYS:
        raise fail(f"unknown key {sorted(unknown)[0]!r}")
    if not isinstance(raw.get("name"), str) or not _positive(raw.get("weight")):
        raise fail("needs a name and a positive weight")
    sources = [key for key in ("value", "numerator", "declared") if key in raw]
    if len(sources) != 1 or ("numerator" in raw) != ("denominator" in raw):
        raise fail("needs exactly one of value, numerator with denominator, declared")
    numerator, denominator = _counters(raw.get("numerator")), _counters(raw.get("denominator"))
    if "numerator" in raw and not (numerator and denominator):
        raise fail("numerator and denominator each name at least one counter")
    if bad := [c for c in (*numerator, *denominator) if c not in COUNTERS]:
        raise fail(f"unknown counter {bad[0]!r}")
    if "value" in raw and raw["value"] not in RATES:
        raise fail(f"unknown rate {raw['value']!r}")
    declared, full_at, zero_at = raw.get("declared"), raw.get("full_at", 100), raw.get("zero_at", 0)
    percents = [full_at, zero_at] + ([declared] if "declared" in raw else [])
    if not all(_number(p) and 0 <= p <= 100 for p in percents) or zero_at >= full_at:
        raise fail("declared, full_at and zero_at are percents (0–100), zero_at below full_at")
    return Indicator(
        name, raw["name"], raw["weight"], raw.get("value"), numerator, denominator, declared, full_at, zero_at
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return _number(value) and value > 0


def _counters(names: Any) -> tuple[Any, ...]:
    return tuple(names) if isinstance(names, list) else () if names is None else (names,)


def _terms(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"({' + '.join(names)})"
