"""The catalogue and the units, for portals and receiving officers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.runtime.web import answers

from ..catalogue import search
from ..context import IntakeDep

router = APIRouter(tags=["catalogue"])


@router.get("/procedures")
async def list_procedures(
    intake: IntakeDep,
    q: str = "",
    field_name: Annotated[str | None, Query(alias="field")] = None,
    level: str | None = None,
    online_level: str | None = None,
) -> dict[str, Any]:
    """List and search the catalogue; `q` ignores diacritics and case ("dang ky khai sinh")."""
    catalogue = intake.catalogue
    found = search(catalogue, q, field=field_name, level=level, online_level=online_level)
    return {"version": catalogue.version, "count": len(found), "procedures": [p.as_row() for p in found]}


@router.get("/procedures/{code}", responses=answers(404))
async def get_procedure(code: str, intake: IntakeDep) -> dict[str, Any]:
    procedure = intake.catalogue.get(code)
    if procedure is None:
        raise HTTPException(404, f"unknown procedure {code!r}")
    return procedure.as_row() | {"catalogue_version": intake.catalogue.version}


@router.get("/communes")
async def list_communes(intake: IntakeDep) -> list[dict[str, str]]:
    return [vars(c) for c in intake.units.communes.values()]


@router.get("/units")
async def list_units(intake: IntakeDep) -> dict[str, Any]:
    """The province, its departments and its communes, with their national agency codes."""
    units = intake.units
    return {
        "province": vars(units.province),
        "departments": [vars(u) for u in units.departments.values()],
        "communes": [vars(u) for u in units.communes.values()],
    }
