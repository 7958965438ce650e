"""A dossier's fee as assessed from its procedure's fee rule (xác định phí, lệ phí phải nộp).

Each line of the rule becomes a `FeeLine` of `dossier.received`: a fixed line once, a per-unit
line (per copy, per page, per person) for the dossier's `quantity`, within its cap (`max_vnd`).
The total is the lines' sum, unless the applicant claims one of the procedure's exemption
grounds: then nothing is collected and the `Exemption` records the ground, the reason given
(e.g. the beneficiary card's number) and what the total would have been. Phí and lệ phí stay
apart line by line; money is integer VND throughout. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from motcua_contracts import Exemption, FeeLine

from .catalogue import FeeRule, Procedure


class Claim(Protocol):
    """An applicant's exemption claim: the ground and the reason they give for it."""

    @property
    def ground(self) -> str: ...

    @property
    def reason(self) -> str: ...


class NotApplicable(ValueError):
    """The claimed ground is not one of the procedure's (the submission's check says so first)."""


@dataclass(frozen=True)
class Assessment:
    """What the dossier owes: the lines, the total to collect (0 when exempt), the exemption."""

    lines: tuple[FeeLine, ...]
    total_vnd: int
    exemption: Exemption | None = None

    @property
    def due(self) -> bool:
        """Whether anything is to be paid."""
        return self.total_vnd > 0


def line(rule: FeeRule, quantity: int) -> FeeLine:
    """One line of the fee: a fixed amount once; a per-unit price times `quantity`, within its cap."""
    if rule.per_unit_vnd is None:
        amount = rule.amount_vnd or 0
        return FeeLine(kind=rule.kind, name=rule.name, unit_vnd=amount, quantity=1, amount_vnd=amount)
    amount = rule.per_unit_vnd * quantity
    if rule.max_vnd is not None:
        amount = min(amount, rule.max_vnd)
    return FeeLine(
        kind=rule.kind, name=rule.name, unit_vnd=rule.per_unit_vnd, quantity=quantity, unit=rule.unit, amount_vnd=amount
    )


def assess(procedure: Procedure, quantity: int = 1, exemption_claim: Claim | None = None) -> Assessment:
    """The fee of a dossier of `procedure` for `quantity` units (copies, pages…), waived when
    `exemption_claim` names one of the procedure's grounds (`NotApplicable` if it names another)."""
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, not {quantity}")
    lines = tuple(line(rule, quantity) for rule in procedure.fee.lines)
    total = sum(fee_line.amount_vnd for fee_line in lines)
    if exemption_claim is None:
        return Assessment(lines, total)
    if not lines:
        raise NotApplicable(f"procedure {procedure.code!r} carries no fee: there is nothing to exempt")
    ground = procedure.fee.exemption(exemption_claim.ground)
    if ground is None:
        raise NotApplicable(f"procedure {procedure.code!r} has no exemption ground {exemption_claim.ground!r}")
    exemption = Exemption(ground=ground.ground, label=ground.label, reason=exemption_claim.reason, waived_vnd=total)
    return Assessment(lines, 0, exemption)
