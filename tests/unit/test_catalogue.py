"""The procedure catalogue as data, and search that ignores diacritics."""

from __future__ import annotations

from services.intake import domain
from services.intake.settings import settings


def catalogue() -> tuple[str, dict[str, domain.Procedure]]:
    with open(settings.catalogue_file, encoding="utf-8") as file:
        return domain.parse_catalogue(file.read())


def test_catalogue_is_versioned_and_broad() -> None:
    version, procedures = catalogue()
    assert version
    assert len(procedures) >= 60
    assert len({p.field for p in procedures.values()}) >= 10
    assert {p.level for p in procedures.values()} == {"commune", "province", "inter_agency"}
    assert {p.online_level for p in procedures.values()} == {"full", "partial", "information"}
    assert {p.processing_kind for p in procedures.values()} == {"working", "calendar"}
    for procedure in procedures.values():
        assert procedure.takes_dossiers == bool(procedure.components), procedure.code
        assert domain.Procedure.from_row(procedure.as_row()) == procedure


def test_search_ignores_diacritics_and_case() -> None:
    _, procedures = catalogue()
    assert [p.name for p in domain.search(procedures, "dang ky khai sinh")] == [
        "Đăng ký khai sinh",
        "Đăng ký lại khai sinh",
    ]
    assert [p.code for p in domain.search(procedures, "ĐĂNG KÝ KẾT HÔN")] == ["1.000894"]
    assert all(p.field == "Đất đai" for p in domain.search(procedures, "dat dai"))
    assert {p.level for p in domain.search(procedures, "", level="province")} == {"province"}
    assert domain.search(procedures, "khai sinh", field="Xây dựng") == []


def test_fold() -> None:
    assert domain.fold("Đăng ký Thường trú") == "dang ky thuong tru"
