"""Intake in process: the catalogue a deployment serves is the one in its store, seeded from
the catalogue file when the file brings a new version; search and the units over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from services.intake.app import create
from services.intake.settings import SAMPLE_CATALOGUE
from services.runtime import Runtime
from services.runtime.documents import MemoryDocuments

from .test_intake import running, settings


async def test_a_new_catalogue_version_is_seeded_and_every_replica_serves_the_stored_one(tmp_path: Path) -> None:
    sample = json.loads(SAMPLE_CATALOGUE.read_text(encoding="utf-8"))
    newer = tmp_path / "procedures.json"
    newer.write_text(json.dumps({**sample, "version": "2027.1.1", "procedures": sample["procedures"][:3]}))
    documents = MemoryDocuments()  # one database, replicas started one after the other

    async def started(catalogue_file: Path) -> Runtime:
        runtime = Runtime(create(settings(catalogue_file=str(catalogue_file))), documents)
        await runtime.start()
        await runtime.stop()
        return runtime

    first = await started(SAMPLE_CATALOGUE)
    assert first.context.catalogue.version == sample["version"]
    assert len(first.context.catalogue.procedures) == len(sample["procedures"])
    upgraded = await started(newer)
    assert upgraded.context.catalogue.version == "2027.1.1"
    assert list(upgraded.context.catalogue.procedures) == [p["code"] for p in sample["procedures"][:3]]
    stored = await documents.get("catalogue", "current")
    assert stored is not None and stored["version"] == "2027.1.1"


async def test_search_over_http_ignores_diacritics_and_filters() -> None:
    async with running() as intake, intake.http() as client:
        found = (await client.get("/procedures", params={"q": "dang ky khai sinh"})).json()
        province = (await client.get("/procedures", params={"level": "province"})).json()
        one = await client.get("/procedures/1.001193")
        unknown = await client.get("/procedures/9.999999")
    assert found["version"] and found["count"] == len(found["procedures"])
    assert "Đăng ký khai sinh" in [p["name"] for p in found["procedures"]]
    assert province["count"] > 0 and {p["level"] for p in province["procedures"]} == {"province"}
    assert one.json()["name"] == "Đăng ký khai sinh" and one.json()["catalogue_version"] == found["version"]
    assert unknown.status_code == 404 and "unknown procedure" in unknown.text


async def test_units_and_communes_over_http() -> None:
    async with running() as intake, intake.http() as client:
        units = (await client.get("/units")).json()
        communes = (await client.get("/communes")).json()
    assert units["province"]["code"] == "H40"
    assert len(units["departments"]) >= 18 and len(units["communes"]) == 130 == len(communes)
    assert {u["name"] for u in units["departments"]} >= {"Sở Xây dựng", "Sở Tư pháp", "Sở Y tế"}
