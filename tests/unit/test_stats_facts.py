"""A dossier's facts and the day rows they add to: pure rules of the stats read model."""

from __future__ import annotations

from datetime import UTC, datetime

from motcua_contracts import DossierCompleted, DossierReceived, FeedbackReceived

from services.stats import facts

RECEIVED = DossierReceived.model_validate(
    {
        "dossier_code": "H40.101-261123-0001",
        "procedure_code": "1.001193",
        "procedure_name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "channel": "online_partial",
        "commune_code": "H40.101",
        "applicant": {"key_id": "3f9a1c0b7d2e", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "c2VhbGVk"},
        "components": [{"name": "Tờ khai", "form": "paper"}],
        "fee_vnd": 0,
        "receipt_number": "r",
        "received_at": "2026-11-23T18:00:00Z",  # 01:00 on the 24th in Vietnam
        "due_at": "2026-11-26T10:00:00Z",
    }
)
DONE = DossierCompleted(
    dossier_code="H40.101-261123-0001",
    result_code="H40.101-261123-0001-KQ1",
    completed_at=datetime(2026, 11, 27, 3, tzinfo=UTC),
    due_at=datetime(2026, 11, 26, 10, tzinfo=UTC),
    outcome="late",
)


def rows(*events: object) -> facts.Rows:
    known: facts.Facts = {}
    for event in events:
        facts.merge(known, event)  # type: ignore[arg-type]
    return facts.contributions(known)


def test_a_dossier_counts_on_its_local_receipt_day_and_its_closing_day() -> None:
    where = ("H40.101", "Hộ tịch", "1.001193", "online_partial")
    assert rows(RECEIVED) == {
        ("2026-11-24", *where): {"received": 1, "opened": 1, "online": 1, "components": 1, "received_online_partial": 1}
    }
    closed = rows(
        RECEIVED, DONE, FeedbackReceived(dossier_code=DONE.dossier_code, rating=1, received_at=DONE.completed_at)
    )
    assert closed[("2026-11-27", *where)] == {
        "opened": -1,
        "resolved": 1,
        "late": 1,
        "rated": 1,
        "rating_sum": 1,
        "dissatisfied": 1,
        "unhappy": 1,
    }


def test_nothing_counts_before_the_receipt_is_known_and_order_does_not_matter() -> None:
    assert rows(DONE) == {}
    assert rows(DONE, RECEIVED) == rows(RECEIVED, DONE) == rows(RECEIVED, DONE, RECEIVED, DONE)


def test_the_difference_moves_only_what_changed() -> None:
    before, after = rows(RECEIVED), rows(RECEIVED, DONE)
    change = facts.difference(before, after)
    assert list(change) == [("2026-11-27", "H40.101", "Hộ tịch", "1.001193", "online_partial")]
    assert facts.difference(after, after) == {}
