"""The procedure catalogue as data, and search that ignores diacritics."""

from __future__ import annotations

from services.intake.catalogue import Catalogue, Procedure, fold, parse_catalogue, search
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
