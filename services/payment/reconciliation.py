"""Reconciliation (đối soát): a gateway's statement of one day checked against the ledger (sổ thu).

Each gateway sends, for every day, a statement (sao kê) of the money it moved for us. Every
successful line must have its ledger entry with the same amount, and every ledger entry of that
gateway its line; what does not is a problem for the finance officers. Pure: no I/O.

The statement file
------------------
CSV, UTF-8 (a leading BOM is tolerated), comma-separated, fields quoted only when needed, one
transaction a line, after a header row that is exactly::

    transaction_id,reference,type,amount_vnd,status,settled_at

- ``transaction_id``: the gateway's transaction id (not empty); with ``type`` it names the line,
  so no two lines may share both.
- ``reference``: our reference of the order (the gateway's TxnRef, ``PAY-<dossier code>``).
- ``type``: ``payment`` (money in, a ``capture`` in the ledger) or ``refund`` (money back, a
  ``refund`` in the ledger).
- ``amount_vnd``: a non-negative integer number of đồng, digits only (no sign, no separators).
- ``status``: ``success`` or ``failed``. Gateways list failed attempts too, but they move no
  money: they are counted, never matched.
- ``settled_at``: ISO 8601 with its offset, e.g. ``2026-12-03T09:15:00+07:00``.

Blank lines (and lines of empty fields only, as spreadsheets export) are skipped; a bad line is
never skipped: the whole statement is refused with every problem named by its line number.

Example::

    transaction_id,reference,type,amount_vnd,status,settled_at
    14012345,PAY-H56.001-261203-0001,payment,50000,success,2026-12-03T09:15:00+07:00
    14012399,PAY-H56.001-261203-0002,payment,30000,failed,2026-12-03T09:20:00+07:00
    14012345,PAY-H56.001-261203-0001,refund,50000,success,2026-12-03T16:02:00+07:00

Matching
--------
A successful line and a ledger entry of the same gateway match by (kind, transaction id):
``matched`` when the amounts agree, ``mismatched`` when they do not, ``missing_in_ledger`` when the
gateway moved money we have no entry for (a notification that never reached us: the most urgent),
``missing_in_statement`` when we recorded money the gateway does not list. The caller passes the
ledger entries of the day (by ``at``, in Vietnam time, UTC+7); money that moved within 15 minutes of
midnight may sit in the adjacent day's file or ledger, so what is missing near a cut-off says so
(``near_cutoff``, ``adjacent_day``) rather than being silently dropped.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .ledger import Kind, LedgerEntry

HEADER = ("transaction_id", "reference", "type", "amount_vnd", "status", "settled_at")
LineType = Literal["payment", "refund"]
LineStatus = Literal["success", "failed"]
TYPES: tuple[LineType, ...] = ("payment", "refund")
STATUSES: tuple[LineStatus, ...] = ("success", "failed")
KIND_OF: dict[LineType, Kind] = {"payment": "capture", "refund": "refund"}

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving: the fixed offset is the legal time
CUTOFF_WINDOW = timedelta(minutes=15)
MAX_AMOUNT_DIGITS = 15  # 10^15 đồng is far beyond any fee; also keeps int() off huge strings
_DIGITS = re.compile(r"[0-9]+")


class StatementError(ValueError):
    """A statement that cannot be read: `problems` names every bad line and what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class StatementLine(BaseModel):
    """One line of a gateway's statement; `line` is its line number in the file (the header is 1)."""

    model_config = ConfigDict(frozen=True)

    line: int
    transaction_id: str
    reference: str
    type: LineType
    amount_vnd: int = Field(ge=0)
    status: LineStatus
    settled_at: datetime

    @property
    def kind(self) -> Kind:
        """The ledger kind this line moves money as."""
        return KIND_OF[self.type]


def parse_statement(text: str, max_lines: int = 200_000) -> list[StatementLine]:
    """The lines of a statement, in file order, or a StatementError listing every problem."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    lines: list[StatementLine] = []
    seen: dict[tuple[str, str], int] = {}
    header_seen = False
    count = 0
    while True:
        number = reader.line_num + 1  # where this record starts
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(f"line {number}: not readable as CSV ({error})")
            if not header_seen:
                raise StatementError(problems) from None
            continue
        if not header_seen:
            header_seen = True
            if tuple(field.strip() for field in row) != HEADER:
                problems.append(
                    f"line {number}: the header must be exactly {','.join(HEADER)!r}, not {','.join(row)!r}"
                )
                raise StatementError(problems)
            continue
        if not row or all(not field.strip() for field in row):
            continue  # a blank line (often at the end) carries nothing
        count += 1
        if count > max_lines:
            problems.append(f"line {number}: more than {max_lines} lines; the statement is refused")
            break
        parsed = _parse_row(number, row, problems)
        if parsed is None:
            continue
        key = (parsed.type, parsed.transaction_id)
        if key in seen:
            problems.append(
                f"line {number}: duplicate {parsed.type} of transaction {parsed.transaction_id!r} (first on line {seen[key]})"
            )
            continue
        seen[key] = number
        lines.append(parsed)
    if not header_seen:
        problems.append(f"line 1: the statement is empty; expected the header {','.join(HEADER)!r}")
    if problems:
        raise StatementError(problems)
    return lines


def _parse_row(number: int, row: list[str], problems: list[str]) -> StatementLine | None:
    """One data row, or None after adding what is wrong with it to `problems`."""
    if len(row) != len(HEADER):
        problems.append(f"line {number}: {len(row)} columns instead of {len(HEADER)}")
        return None
    transaction_id, reference, kind, amount, status, settled = (field.strip() for field in row)
    wrong: list[str] = []
    if not transaction_id:
        wrong.append("transaction_id is empty")
    if kind not in TYPES:
        wrong.append(f"unknown type {kind!r} (payment or refund)")
    if status not in STATUSES:
        wrong.append(f"unknown status {status!r} (success or failed)")
    amount_vnd = _amount(amount, wrong)
    settled_at = _moment(settled, wrong)
    if wrong:
        problems.append(f"line {number}: " + "; ".join(wrong))
        return None
    return StatementLine.model_validate(
        {
            "line": number,
            "transaction_id": transaction_id,
            "reference": reference,
            "type": kind,
            "amount_vnd": amount_vnd,
            "status": status,
            "settled_at": settled_at,
        }
    )


def _amount(value: str, wrong: list[str]) -> int | None:
    if value.startswith("-") and _DIGITS.fullmatch(value[1:]):
        wrong.append(f"amount_vnd {value!r} is negative")
    elif not _DIGITS.fullmatch(value):
        wrong.append(f"amount_vnd {value!r} is not a whole number of đồng (digits only, no separators)")
    elif len(value.lstrip("0")) > MAX_AMOUNT_DIGITS:
        wrong.append(f"amount_vnd {value!r} is too large")
    else:
        return int(value)
    return None


def _moment(value: str, wrong: list[str]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        wrong.append(f"settled_at {value!r} is not an ISO 8601 date and time")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        wrong.append(f"settled_at {value!r} has no offset (e.g. +07:00)")
        return None
    return moment


# --- the report -----------------------------------------------------------------------------------


class Matched(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    transaction_id: str
    reference: str
    amount_vnd: int
    line: int
    entry_id: str
    dossier_code: str


class Mismatched(BaseModel):
    """Same movement, another amount: `difference_vnd` is the statement's amount minus the ledger's."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    transaction_id: str
    reference: str
    statement_amount_vnd: int
    ledger_amount_vnd: int
    difference_vnd: int
    line: int
    entry_id: str
    dossier_code: str


class MissingInLedger(BaseModel):
    """Money the gateway moved that we have no entry for. Near a cut-off, the entry may be in the
    ledger of `adjacent_day` (our confirmation came after midnight, or before it)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    transaction_id: str
    reference: str
    amount_vnd: int
    settled_at: datetime
    line: int
    near_cutoff: bool = False
    adjacent_day: date | None = None


class MissingInStatement(BaseModel):
    """Money we recorded that the gateway does not list. Near a cut-off, the line may be in the
    gateway's statement of `adjacent_day`."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    transaction_id: str
    reference: str
    amount_vnd: int
    at: datetime
    entry_id: str
    dossier_code: str
    commune: str
    near_cutoff: bool = False
    adjacent_day: date | None = None


class Counts(BaseModel):
    model_config = ConfigDict(frozen=True)

    matched: int
    mismatched: int
    missing_in_ledger: int
    missing_in_statement: int
    near_cutoff: int = Field(description="Of the missing, how many are within the cut-off window of midnight.")
    failed_lines: int = Field(description="Failed statement lines: counted, not matched (they move no money).")
    statement_lines: int = Field(description="All statement lines, failed included.")
    ledger_entries: int = Field(description="Ledger entries of this gateway considered.")


class Totals(BaseModel):
    """In đồng. `net_difference_vnd` is the statement's net (captured − refunded) minus the ledger's."""

    model_config = ConfigDict(frozen=True)

    statement_captured_vnd: int
    statement_refunded_vnd: int
    ledger_captured_vnd: int
    ledger_refunded_vnd: int
    net_difference_vnd: int


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    gateway: str
    day: date
    balanced: bool = Field(description="No mismatch and nothing missing on either side.")
    counts: Counts
    totals: Totals
    matched: list[Matched]
    mismatched: list[Mismatched]
    missing_in_ledger: list[MissingInLedger]
    missing_in_statement: list[MissingInStatement]


def _aware(moment: datetime) -> datetime:
    """A naive time is UTC (as MongoDB returns it without tz_aware)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _adjacent_day(moment: datetime, day: date, window: timedelta) -> date | None:
    """The neighbouring day whose file or ledger may hold the counterpart of `moment`, if it is near a midnight."""
    start = datetime.combine(day, time(), VIETNAM)
    end = start + timedelta(days=1)
    moment = _aware(moment)
    if abs(moment - end) <= window:
        return day + timedelta(days=1)
    if abs(moment - start) <= window:
        return day - timedelta(days=1)
    return None


def reconcile(
    gateway: str,
    day: date,
    lines: list[StatementLine],
    entries: list[LedgerEntry],
    *,
    window: timedelta = CUTOFF_WINDOW,
) -> Report:
    """Check `gateway`'s statement of `day` against the ledger entries of that day (others' are ignored)."""
    ours = [entry for entry in {entry.entry_id: entry for entry in entries}.values() if entry.gateway == gateway]
    by_key: dict[tuple[str, str], list[LedgerEntry]] = defaultdict(list)
    for entry in sorted(ours, key=lambda entry: (_aware(entry.at), entry.entry_id)):
        by_key[(entry.kind, entry.transaction_id)].append(entry)

    matched: list[Matched] = []
    mismatched: list[Mismatched] = []
    missing_in_ledger: list[MissingInLedger] = []
    successful = [line for line in sorted(lines, key=lambda line: line.line) if line.status == "success"]
    for line in successful:
        candidates = by_key.get((line.kind, line.transaction_id))
        if not candidates:
            adjacent = _adjacent_day(line.settled_at, day, window)
            missing_in_ledger.append(
                MissingInLedger(
                    kind=line.kind,
                    transaction_id=line.transaction_id,
                    reference=line.reference,
                    amount_vnd=line.amount_vnd,
                    settled_at=line.settled_at,
                    line=line.line,
                    near_cutoff=adjacent is not None,
                    adjacent_day=adjacent,
                )
            )
            continue
        entry = candidates.pop(0)
        if entry.amount_vnd == line.amount_vnd:
            matched.append(
                Matched(
                    kind=line.kind,
                    transaction_id=line.transaction_id,
                    reference=line.reference,
                    amount_vnd=line.amount_vnd,
                    line=line.line,
                    entry_id=entry.entry_id,
                    dossier_code=entry.dossier_code,
                )
            )
        else:
            mismatched.append(
                Mismatched(
                    kind=line.kind,
                    transaction_id=line.transaction_id,
                    reference=line.reference,
                    statement_amount_vnd=line.amount_vnd,
                    ledger_amount_vnd=entry.amount_vnd,
                    difference_vnd=line.amount_vnd - entry.amount_vnd,
                    line=line.line,
                    entry_id=entry.entry_id,
                    dossier_code=entry.dossier_code,
                )
            )

    missing_in_statement: list[MissingInStatement] = []
    left = sorted(
        (entry for candidates in by_key.values() for entry in candidates),
        key=lambda entry: (_aware(entry.at), entry.entry_id),
    )
    for entry in left:
        adjacent = _adjacent_day(entry.at, day, window)
        missing_in_statement.append(
            MissingInStatement(
                kind=entry.kind,
                transaction_id=entry.transaction_id,
                reference=entry.reference,
                amount_vnd=entry.amount_vnd,
                at=entry.at,
                entry_id=entry.entry_id,
                dossier_code=entry.dossier_code,
                commune=entry.commune,
                near_cutoff=adjacent is not None,
                adjacent_day=adjacent,
            )
        )

    def total(amounts: list[tuple[str, int]], kind: str) -> int:
        return sum(amount for of, amount in amounts if of == kind)

    statement = [(line.kind, line.amount_vnd) for line in successful]
    ledger = [(entry.kind, entry.amount_vnd) for entry in ours]
    totals = Totals(
        statement_captured_vnd=total(statement, "capture"),
        statement_refunded_vnd=total(statement, "refund"),
        ledger_captured_vnd=total(ledger, "capture"),
        ledger_refunded_vnd=total(ledger, "refund"),
        net_difference_vnd=(total(statement, "capture") - total(statement, "refund"))
        - (total(ledger, "capture") - total(ledger, "refund")),
    )
    counts = Counts(
        matched=len(matched),
        mismatched=len(mismatched),
        missing_in_ledger=len(missing_in_ledger),
        missing_in_statement=len(missing_in_statement),
        near_cutoff=sum(item.near_cutoff for item in [*missing_in_ledger, *missing_in_statement]),
        failed_lines=sum(line.status == "failed" for line in lines),
        statement_lines=len(lines),
        ledger_entries=len(ours),
    )
    return Report(
        gateway=gateway,
        day=day,
        balanced=not (mismatched or missing_in_ledger or missing_in_statement),
        counts=counts,
        totals=totals,
        matched=matched,
        mismatched=mismatched,
        missing_in_ledger=missing_in_ledger,
        missing_in_statement=missing_in_statement,
    )


# --- the command line's summary -------------------------------------------------------------------


def vnd(amount: int, *, signed: bool = False) -> str:
    """An amount with "." between thousands, as Vietnamese write it: 1.250.000."""
    text = f"{abs(amount):,}".replace(",", ".")
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return sign + text


def _when(moment: datetime) -> str:
    return _aware(moment).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def _cutoff_note(adjacent: date | None, where: str) -> str:
    if adjacent is None:
        return ""
    return f"  [sát giờ chốt (near cut-off): có thể ở {where} ngày {adjacent:%d/%m/%Y}]"


def render(report: Report) -> str:
    """A plain-text summary: counts, totals, then every problem, the most urgent first."""
    counts, totals = report.counts, report.totals
    out = [
        f"Đối soát {report.gateway} ngày {report.day:%d/%m/%Y} (reconciliation)",
        "Kết quả (result): " + ("KHỚP (balanced)" if report.balanced else "KHÔNG KHỚP (not balanced)"),
        "",
        "Số lượng (counts):",
        f"  Khớp (matched): {counts.matched}",
        f"  Lệch số tiền (mismatched): {counts.mismatched}",
        f"  Thiếu trong sổ thu (missing in ledger): {counts.missing_in_ledger}",
        f"  Thiếu trong sao kê (missing in statement): {counts.missing_in_statement}",
        f"  Sát giờ chốt (near cut-off): {counts.near_cutoff}",
        f"  Giao dịch lỗi, không đối soát (failed lines, not matched): {counts.failed_lines}",
        f"  Dòng sao kê / bút toán sổ thu (statement lines / ledger entries): {counts.statement_lines} / {counts.ledger_entries}",
        "",
        "Tổng tiền, VND (totals):",
        f"  Sao kê — thu (statement captured): {vnd(totals.statement_captured_vnd)}",
        f"  Sao kê — hoàn (statement refunded): {vnd(totals.statement_refunded_vnd)}",
        f"  Sổ thu — thu (ledger captured): {vnd(totals.ledger_captured_vnd)}",
        f"  Sổ thu — hoàn (ledger refunded): {vnd(totals.ledger_refunded_vnd)}",
        f"  Chênh lệch ròng (net difference, statement − ledger): {vnd(totals.net_difference_vnd, signed=True)}",
    ]
    if report.missing_in_ledger:
        out += ["", "Thiếu trong sổ thu — xử lý trước (missing in ledger — most urgent):"]
        for item in report.missing_in_ledger:
            out.append(
                f"  dòng (line) {item.line}: {item.kind} {item.transaction_id} {item.reference} "
                f"{vnd(item.amount_vnd)} lúc (at) {_when(item.settled_at)}" + _cutoff_note(item.adjacent_day, "sổ thu")
            )
    if report.mismatched:
        out += ["", "Lệch số tiền (mismatched):"]
        for item in report.mismatched:
            out.append(
                f"  dòng (line) {item.line}: {item.kind} {item.transaction_id} {item.reference} hồ sơ (dossier) "
                f"{item.dossier_code}: sao kê (statement) {vnd(item.statement_amount_vnd)}, sổ thu (ledger) "
                f"{vnd(item.ledger_amount_vnd)}, chênh lệch (difference) {vnd(item.difference_vnd, signed=True)}"
            )
    if report.missing_in_statement:
        out += ["", "Thiếu trong sao kê (missing in statement):"]
        for item in report.missing_in_statement:
            out.append(
                f"  {item.kind} {item.transaction_id} {item.reference} hồ sơ (dossier) {item.dossier_code} "
                f"{vnd(item.amount_vnd)} lúc (at) {_when(item.at)}" + _cutoff_note(item.adjacent_day, "sao kê")
            )
    return "\n".join(out) + "\n"
