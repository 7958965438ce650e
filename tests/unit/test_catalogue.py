"""The procedure catalogue as data (fee rules included), and search that ignores diacritics."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.catalogue import (
    LEGACY_LINE_NAME,
    Catalogue,
    ExemptionGround,
    Fee,
    FeeRule,
    Procedure,
    fold,
    parse_catalogue,
    search,
)
from services.intake.settings import SAMPLE_CATALOGUE


def catalogue() -> Catalogue:
    return parse_catalogue(SAMPLE_CATALOGUE.read_text(encoding="utf-8"))


def test_catalogue_is_versioned_and_broad() -> None:
    sample = catalogue()
    procedures = sample.procedures
    assert sample.version
    assert len(procedures) >= 60
    assert len({p.field for p in procedures.values()}) >= 10
    assert {p.level for p in procedures.values()} == {"commune", "province", "inter_agency"}
    assert {p.online_level for p in procedures.values()} == {"full", "partial", "information"}
    assert {p.processing_kind for p in procedures.values()} == {"working", "calendar"}
    for procedure in procedures.values():
        assert procedure.takes_dossiers == bool(procedure.components), procedure.code
        assert Procedure.from_row(procedure.as_row()) == procedure
    assert Catalogue.from_rows(sample.version, sample.rows()) == sample


def test_fee_rules_keep_phi_and_le_phi_apart_and_say_their_units_caps_and_exemptions() -> None:
    sample = catalogue()
    procedures = sample.procedures
    assert sample.version == "2026.12.2"
    assert procedures["1.001193"].fee == Fee()  # birth registration: free
    assert procedures["1.001193"].fee.free
    assert procedures["1.003583"].fee.lines == (
        FeeRule("fee", "Phí cấp bản sao trích lục hộ tịch", per_unit_vnd=8000, unit="bản"),
    )
    [pages] = procedures["2.000815"].fee.lines
    assert (pages.per_unit_vnd, pages.unit, pages.max_vnd) == (2000, "trang", 200000)
    assert [line.kind for line in procedures["1.012755"].fee.lines] == ["fee", "charge"]
    for residence in ("1.004194", "1.004222", "1.004206"):
        fee = procedures[residence].fee
        assert [line.kind for line in fee.lines] == ["charge"], residence
        assert {"social_protection", "poor_household", "meritorious", "child_under_16"} <= {
            e.ground for e in fee.exemptions
        }
        assert fee.exemption("poor_household") == ExemptionGround("poor_household", "Hộ nghèo")
        assert fee.exemption("karaoke_owner") is None
    kinds = {line.kind for p in procedures.values() for line in p.fee.lines}
    assert kinds == {"fee", "charge"}
    assert all(
        isinstance(line.amount_vnd or line.per_unit_vnd, int) for p in procedures.values() for line in p.fee.lines
    )


def row(fee: Any) -> dict[str, Any]:
    """A catalogue row as code builds it, with `fee` as given (absent if None)."""
    built = catalogue().procedures["1.004194"].as_row()
    return {key: value for key, value in built.items() if key != "fee"} | ({"fee": fee} if fee is not None else {})


def test_an_older_catalogues_fee_rules_still_read() -> None:
    assert Procedure.from_row(row({"kind": "free"})).fee.free
    assert Procedure.from_row(row(None)).fee.free
    assert Procedure.from_row(row({"kind": "fixed", "amount_vnd": 20000})).fee.lines == (
        FeeRule("charge", LEGACY_LINE_NAME, amount_vnd=20000),
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ({"kind": "tax", "name": "Thuế", "amount_vnd": 1000}, "a 'fee' .phí. or a 'charge'"),
        ({"kind": "fee", "name": "Phí", "amount_vnd": 1000.5}, "whole number of VND"),
        ({"kind": "fee", "name": "Phí", "amount_vnd": -1}, "whole number of VND"),
        ({"kind": "fee", "name": "Phí"}, "amount_vnd or per_unit_vnd"),
        (
            {"kind": "fee", "name": "Phí", "amount_vnd": 1, "per_unit_vnd": 1, "unit": "bản"},
            "amount_vnd or per_unit_vnd",
        ),
        ({"kind": "fee", "name": "Phí", "per_unit_vnd": 2000}, "name its unit"),
        ({"kind": "fee", "name": "Phí", "amount_vnd": 2000, "max_vnd": 5000}, "is fixed"),
    ],
)
def test_a_malformed_fee_line_is_the_catalogues_mistake_named(line: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Procedure.from_row(row({"lines": [line], "exemptions": []}))


def test_online_level_decides_the_channels() -> None:
    procedures = catalogue().procedures
    full, partial, information = procedures["1.001193"], procedures["1.000894"], procedures["1.000954"]
    assert full.allows("online_full") and full.allows("post")
    assert not partial.allows("online_full") and partial.allows("online_partial") and partial.allows("counter")
    assert not any(information.allows(channel) for channel in ("online_full", "online_partial", "counter", "post"))


def test_search_ignores_diacritics_and_case() -> None:
    sample = catalogue()
    assert [p.name for p in search(sample, "dang ky khai sinh")] == ["Đăng ký khai sinh", "Đăng ký lại khai sinh"]
    assert [p.code for p in search(sample, "ĐĂNG KÝ KẾT HÔN")] == ["1.000894"]
    assert all(p.field == "Đất đai" for p in search(sample, "dat dai"))
    assert {p.level for p in search(sample, "", level="province")} == {"province"}
    assert search(sample, "khai sinh", field="Xây dựng") == []


def test_fold() -> None:
    assert fold("Đăng ký Thường trú") == "dang ky thuong tru"
