"""Reconciliation (đối soát): a gateway's statement of a day read strictly, then checked against the
ledger: matched, mismatched, missing on either side, failed lines counted only, the cut-off at midnight."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.payment.ledger import LedgerEntry
from services.payment.reconciliation import (
    HEADER,
    Mismatched,
    StatementError,
    StatementLine,
    parse_statement,
    reconcile,
    render,
    vnd,
)

ICT = timezone(timedelta(hours=7))
DAY = date(2026, 12, 3)
HEAD = ",".join(HEADER)


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ICT)


def entry(kind: str, transaction_id: str, amount_vnd: int, when: datetime, gateway: str = "vnpay") -> LedgerEntry:
    code = f"H56.001-261203-{transaction_id}"
    return LedgerEntry.make(
        kind=kind,
        dossier_code=code,
        commune="H56.001",
        channel="online",
        gateway=gateway,
        reference=f"PAY-{code}",
        transaction_id=transaction_id,
        amount_vnd=amount_vnd,
        at=when,
        reason="dossier withdrawn" if kind == "refund" else None,
    )


def statement(*rows: str) -> str:
    return "\n".join([HEAD, *rows]) + "\n"


STATEMENT = statement(
    "T1,PAY-H56.001-261203-T1,payment,50000,success,2026-12-03T09:15:00+07:00",  # line 2: matched
    "T2,PAY-H56.001-261203-T2,payment,30000,failed,2026-12-03T09:20:00+07:00",  # line 3: failed, counted only
    "T3,PAY-H56.001-261203-T3,payment,100000,success,2026-12-03T10:00:00+07:00",  # line 4: we have 80,000
    "T4,PAY-H56.001-261203-T4,payment,45000,success,2026-12-03T14:00:00+07:00",  # line 5: no entry of ours
    "T1,PAY-H56.001-261203-T1,refund,50000,success,2026-12-03T16:02:00+07:00",  # line 6: the refund, matched
)
ENTRIES = [
    entry("capture", "T1", 50000, at(9, 15)),
    entry("capture", "T3", 80000, at(10, 0)),
    entry("refund", "T1", 50000, at(16, 2)),
    entry("capture", "T5", 25000, at(11, 0)),  # the gateway does not list it
    entry("capture", "T4", 45000, at(14, 0), gateway="momo"),  # another gateway's: ignored
    entry("capture", "T2", 30000, at(9, 20), gateway="momo"),
]


def test_a_day_with_every_kind_of_line_gives_the_exact_categories_and_totals() -> None:
    lines = parse_statement(STATEMENT)
    assert [line.line for line in lines] == [2, 3, 4, 5, 6]
    report = reconcile("vnpay", DAY, lines, ENTRIES)

    assert not report.balanced
    assert [(item.kind, item.transaction_id, item.line) for item in report.matched] == [
        ("capture", "T1", 2),
        ("refund", "T1", 6),
    ]
    assert report.mismatched == [
        Mismatched(
            kind="capture",
            transaction_id="T3",
            reference="PAY-H56.001-261203-T3",
            statement_amount_vnd=100000,
            ledger_amount_vnd=80000,
            difference_vnd=20000,
            line=4,
            entry_id="capture:vnpay:T3",
            dossier_code="H56.001-261203-T3",
        )
    ]
    [missing_ledger] = report.missing_in_ledger
    assert (missing_ledger.kind, missing_ledger.transaction_id, missing_ledger.amount_vnd, missing_ledger.line) == (
        "capture",
        "T4",
        45000,
        5,
    )
    assert not missing_ledger.near_cutoff
    [missing_statement] = report.missing_in_statement
    assert (missing_statement.entry_id, missing_statement.amount_vnd, missing_statement.near_cutoff) == (
        "capture:vnpay:T5",
        25000,
        False,
    )

    counts = report.counts
    assert (counts.matched, counts.mismatched, counts.missing_in_ledger, counts.missing_in_statement) == (2, 1, 1, 1)
    assert (counts.failed_lines, counts.statement_lines, counts.ledger_entries, counts.near_cutoff) == (1, 5, 4, 0)

    totals = report.totals
    assert totals.statement_captured_vnd == 50000 + 100000 + 45000  # the failed 30,000 moved nothing
    assert totals.statement_refunded_vnd == 50000
    assert totals.ledger_captured_vnd == 50000 + 80000 + 25000  # momo's entries are not vnpay's
    assert totals.ledger_refunded_vnd == 50000
    assert totals.net_difference_vnd == (195000 - 50000) - (155000 - 50000) == 40000


def test_the_report_is_json_and_its_summary_names_every_problem() -> None:
    report = reconcile("vnpay", DAY, parse_statement(STATEMENT), ENTRIES)
    document = report.model_dump(mode="json")
    assert json.loads(json.dumps(document)) == document
    assert document["day"] == "2026-12-03" and document["balanced"] is False
    assert document["missing_in_ledger"][0]["settled_at"] == "2026-12-03T14:00:00+07:00"

    text = render(report)
    assert text.startswith("Đối soát vnpay ngày 03/12/2026")
    assert "KHÔNG KHỚP (not balanced)" in text
    assert "Sao kê — thu (statement captured): 195.000" in text
    assert "Sổ thu — thu (ledger captured): 155.000" in text
    assert "(net difference, statement − ledger): +40.000" in text
    assert "sao kê (statement) 100.000, sổ thu (ledger) 80.000, chênh lệch (difference) +20.000" in text
    urgent = text.index("missing in ledger — most urgent")
    assert (
        urgent
        < text.index("\nLệch số tiền (mismatched):\n")
        < text.index("\nThiếu trong sao kê (missing in statement):\n")
    )
    assert "T4 PAY-H56.001-261203-T4 45.000 lúc (at) 03/12/2026 14:00:00" in text[urgent:]
    assert "T5 PAY-H56.001-261203-T5 hồ sơ (dossier) H56.001-261203-T5 25.000" in text


def test_a_clean_day_is_balanced() -> None:
    lines = parse_statement(
        statement(
            "T1,PAY-A,payment,50000,success,2026-12-03T09:15:00+07:00",
            "T2,PAY-B,payment,30000,failed,2026-12-03T09:20:00+07:00",
            "T1,PAY-A,refund,50000,success,2026-12-03T16:02:00+07:00",
        )
    )
    entries = [entry("capture", "T1", 50000, at(9, 15)), entry("refund", "T1", 50000, at(16, 2))]
    report = reconcile("vnpay", DAY, lines, entries)
    assert report.balanced
    assert report.totals.net_difference_vnd == 0
    assert (report.counts.matched, report.counts.failed_lines) == (2, 1)
    assert not (report.mismatched or report.missing_in_ledger or report.missing_in_statement)
    assert "KHỚP (balanced)" in render(report)


def test_an_empty_day_is_balanced() -> None:
    report = reconcile("vnpay", DAY, parse_statement(HEAD + "\n"), [])
    assert report.balanced and report.counts.statement_lines == 0 and report.totals.net_difference_vnd == 0


def test_a_payment_and_a_refund_of_one_transaction_are_not_confused() -> None:
    lines = parse_statement(statement("T1,PAY-A,refund,50000,success,2026-12-03T16:02:00+07:00"))
    report = reconcile("vnpay", DAY, lines, [entry("capture", "T1", 50000, at(9, 15))])
    assert [item.kind for item in report.missing_in_ledger] == ["refund"]
    assert [item.kind for item in report.missing_in_statement] == ["capture"]


def test_an_entry_near_midnight_may_be_in_tomorrows_file() -> None:
    entries = [
        entry("capture", "T7", 60000, at(23, 50)),  # 10 minutes before the cut-off
        entry("capture", "T8", 70000, at(23, 40)),  # 20 minutes before: simply missing
        entry("capture", "T9", 10000, datetime(2026, 12, 3, 16, 47, tzinfo=UTC)),  # 23:47 in Vietnam
    ]
    report = reconcile("vnpay", DAY, [], entries)
    flagged = {item.transaction_id: (item.near_cutoff, item.adjacent_day) for item in report.missing_in_statement}
    assert flagged == {
        "T7": (True, date(2026, 12, 4)),
        "T8": (False, None),
        "T9": (True, date(2026, 12, 4)),
    }
    assert report.counts.near_cutoff == 2
    assert not report.balanced  # still missing: the officer checks tomorrow's file
    assert "sát giờ chốt (near cut-off): có thể ở sao kê ngày 04/12/2026" in render(report)


def test_lines_and_entries_across_midnight_are_tolerated() -> None:
    lines = parse_statement(
        statement(
            "T1,PAY-A,payment,50000,success,2026-12-03T00:04:00+07:00",  # our entry is in yesterday's ledger
            "T2,PAY-B,payment,20000,success,2026-12-04T00:01:00+07:00",  # the gateway's file ran past midnight
        )
    )
    entries = [entry("capture", "T2", 20000, at(0, 1, day=4)), entry("capture", "T3", 5000, at(0, 10, day=4))]
    report = reconcile("vnpay", DAY, lines, entries)
    assert [item.transaction_id for item in report.matched] == ["T2"]
    [line] = report.missing_in_ledger
    assert (line.transaction_id, line.near_cutoff, line.adjacent_day) == ("T1", True, date(2026, 12, 2))
    [late] = report.missing_in_statement
    assert (late.transaction_id, late.near_cutoff, late.adjacent_day) == ("T3", True, date(2026, 12, 4))


def test_naive_ledger_times_are_utc() -> None:
    naive = entry("capture", "T1", 50000, datetime(2026, 12, 3, 16, 50))  # 23:50 in Vietnam
    report = reconcile("vnpay", DAY, [], [naive])
    assert report.missing_in_statement[0].near_cutoff


def test_the_statement_parses_typed_lines_and_tolerates_a_bom_and_crlf() -> None:
    text = "\ufeff" + HEAD + "\r\n" + "T1,PAY-A,payment,0050000,success,2026-12-03T09:15:00+07:00\r\n\r\n"
    [line] = parse_statement(text)
    assert line == StatementLine(
        line=2,
        transaction_id="T1",
        reference="PAY-A",
        type="payment",
        amount_vnd=50000,
        status="success",
        settled_at=at(9, 15),
    )
    assert line.kind == "capture"
    assert parse_statement(statement('T1,"PAY-A, quoted",refund,0,success,2026-12-03T02:15:00Z'))[0].reference == (
        "PAY-A, quoted"
    )


def problems_of(text: str, max_lines: int = 200_000) -> list[str]:
    with pytest.raises(StatementError) as raised:
        parse_statement(text, max_lines=max_lines)
    assert raised.value.problems and str(raised.value)
    return raised.value.problems


GOOD = "T1,PAY-A,payment,50000,success,2026-12-03T09:15:00+07:00"


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("T1,PAY-A,payment,50000,success", "5 columns instead of 6"),
        ("T1,PAY-A,payment,50000,success,2026-12-03T09:15:00+07:00,extra", "7 columns instead of 6"),
        ("T1,PAY-A,payment,50.000,success,2026-12-03T09:15:00+07:00", "'50.000' is not a whole number"),
        ("T1,PAY-A,payment,12.5,success,2026-12-03T09:15:00+07:00", "'12.5' is not a whole number"),
        ("T1,PAY-A,payment,abc,success,2026-12-03T09:15:00+07:00", "'abc' is not a whole number"),
        ("T1,PAY-A,payment,,success,2026-12-03T09:15:00+07:00", "'' is not a whole number"),
        ("T1,PAY-A,payment,-50000,success,2026-12-03T09:15:00+07:00", "'-50000' is negative"),
        ("T1,PAY-A,payment," + "9" * 5000 + ",success,2026-12-03T09:15:00+07:00", "is too large"),
        ("T1,PAY-A,chargeback,50000,success,2026-12-03T09:15:00+07:00", "unknown type 'chargeback'"),
        ("T1,PAY-A,payment,50000,pending,2026-12-03T09:15:00+07:00", "unknown status 'pending'"),
        ("T1,PAY-A,payment,50000,success,03/12/2026 09:15", "'03/12/2026 09:15' is not an ISO 8601"),
        ("T1,PAY-A,payment,50000,success,2026-12-03T09:15:00", "has no offset"),
        (",PAY-A,payment,50000,success,2026-12-03T09:15:00+07:00", "transaction_id is empty"),
        ('T1,"PAY-A"x,payment,50000,success,2026-12-03T09:15:00+07:00', "not readable as CSV"),
    ],
)
def test_each_bad_line_is_named_with_what_is_wrong(row: str, says: str) -> None:
    problems = problems_of(statement(GOOD.replace("T1", "T0"), row))
    assert len(problems) == 1, problems
    assert problems[0].startswith("line 3: ") and says in problems[0], problems


def test_a_duplicate_line_names_both_lines() -> None:
    [problem] = problems_of(statement(GOOD, GOOD.replace("payment", "refund"), GOOD))
    assert problem == "line 4: duplicate payment of transaction 'T1' (first on line 2)"


@pytest.mark.parametrize(
    "header",
    [
        "transaction_id,reference,type,amount,status,settled_at",
        "reference,transaction_id,type,amount_vnd,status,settled_at",
        "transaction_id;reference;type;amount_vnd;status;settled_at",
        GOOD,
    ],
)
def test_a_wrong_header_is_refused(header: str) -> None:
    [problem] = problems_of(header + "\n" + GOOD + "\n")
    assert problem.startswith("line 1: the header must be exactly")


def test_an_unreadable_header_is_refused() -> None:
    assert problems_of('"') == ["line 1: not readable as CSV (unexpected end of data)"]


def test_an_empty_statement_is_refused() -> None:
    assert problems_of("")[0].startswith("line 1: the statement is empty")
    assert problems_of("\ufeff")[0].startswith("line 1: the statement is empty")


def test_every_bad_line_is_listed_at_once() -> None:
    problems = problems_of(
        statement(
            GOOD,
            "T2,PAY-B,payment,-1,unknown,yesterday",
            "T3,PAY-C,payment,100,success,2026-12-03T09:15:00+07:00",
            "T4,PAY-D,payment",
        )
    )
    assert [problem.split(":")[0] for problem in problems] == ["line 3", "line 5"]
    assert "is negative" in problems[0] and "unknown status" in problems[0] and "settled_at" in problems[0]


def test_a_statement_longer_than_the_limit_is_refused() -> None:
    rows = [GOOD.replace("T1", f"T{n}") for n in range(4)]
    assert len(parse_statement(statement(*rows), max_lines=4)) == 4
    [problem] = problems_of(statement(*rows), max_lines=3)
    assert problem == "line 5: more than 3 lines; the statement is refused"


@pytest.mark.parametrize(
    "text",
    ["\x00", '"', HEAD + '\n"unterminated', HEAD + "\n\x00,\x00", "a,b\nc", HEAD + "\n" + ",,,,,\n" * 3],
)
def test_garbage_is_a_statement_error_never_a_bare_exception(text: str) -> None:
    try:
        parse_statement(text)
    except StatementError as error:
        assert error.problems
    # a list is a fine answer too (e.g. nothing but blank lines after the header)


def test_amounts_are_written_with_dots_between_thousands() -> None:
    assert [vnd(0), vnd(999), vnd(1000), vnd(1250000), vnd(-20000), vnd(20000, signed=True)] == [
        "0",
        "999",
        "1.000",
        "1.250.000",
        "-20.000",
        "+20.000",
    ]
