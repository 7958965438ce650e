"""Stats on the real stack: dossiers taken to their result show in the figures, the index and
the reports; wiping the read model and replaying the topics gives the same numbers; a
department's consumer reads the public snapshots with the contracts package alone."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest

from infra.rebuild import rebuild
from infra.stack import Stack

from .support import eventually, submit_and_complete

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).parents[2] / "contracts" / "examples" / "consume.py"


async def answers(client: httpx.AsyncClient) -> dict[str, Any]:
    """What a dashboard shows: the province's figures, the communes' ranking, the trend."""
    figures = (await client.get("/stats/figures")).json()
    figures.pop("overdue_now"), figures.pop("due_soon_now")  # these move with the clock
    return {
        "figures": figures,
        "ranking": (await client.get("/stats/ranking")).json(),
        "trend": (await client.get("/stats/trend")).json(),
        "fields": (await client.get("/stats/breakdown", params={"by": "procedure"})).json(),
    }


async def settled_answers(client: httpx.AsyncClient) -> dict[str, Any]:
    """The answers once they stop changing (every event of the dossiers counted)."""
    previous: dict[str, Any] | None = None
    for _ in range(60):
        current = await answers(client)
        if current == previous:
            return current
        previous = current
        await asyncio.sleep(3)
    raise AssertionError("the figures kept changing for three minutes")


@pytest.fixture(scope="module")
async def dossiers(stack: Stack) -> list[dict[str, Any]]:
    receipts = await submit_and_complete(stack, count=3, rate=2, seed=41)
    codes = {receipt["dossier_code"] for receipt in receipts}
    async with httpx.AsyncClient(base_url=stack.service_url("stats"), timeout=30) as client:

        async def resolved() -> int:
            found = (await client.get("/stats/breakdown", params={"by": "commune"})).json()["rows"]
            return sum(row["counters"]["resolved"] for row in found if any(c.startswith(row["key"]) for c in codes))

        await eventually(resolved, lambda count: count >= len(codes), timeout=180)
    return receipts


async def test_dossiers_show_in_the_figures_index_and_reports(stack: Stack, dossiers: list[dict[str, Any]]) -> None:
    commune = dossiers[0]["dossier_code"].split("-")[0]
    async with httpx.AsyncClient(base_url=stack.service_url("stats"), timeout=60) as client:
        figures = (await client.get("/stats/figures", params={"unit": commune})).json()
        index = (await client.get("/stats/index", params={"unit": commune})).json()
        csv = await client.get("/stats/report.csv", params={"unit": commune})
        pdf = await client.get("/stats/report.pdf", params={"unit": commune})
    assert figures["counters"]["received"] >= 1 and figures["counters"]["resolved"] >= 1
    assert figures["rates"]["early_or_on_time_rate"] is not None
    assert 1 <= index["rank"] <= index["of"] <= 130 and 0 < index["score"] <= 100
    assert {group["id"] for group in index["groups"]} == {
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    }
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert "Hồ sơ tiếp nhận" in csv.content.decode("utf-8-sig")
    document = pypdfium2.PdfDocument(pdf.content)
    text = document[0].get_textpage().get_text_range()
    assert len(document) == 1 and "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text
    assert figures["scope"]["unit_name"].upper() in text  # the heading names the unit in capitals


async def test_wiping_the_read_model_and_replaying_the_topics_gives_the_same_numbers(
    stack: Stack, dossiers: list[dict[str, Any]]
) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("stats"), timeout=60) as client:
        before = await settled_answers(client)
        served = next(m for m in (await client.get("/stats/rebuild")).json()["models"] if m["model"] == "figures")
        shown: list[str] = []
        done = await asyncio.to_thread(rebuild, stack, "figures", "h40101.quantri", 600, shown.append)
        after = await answers(client)
    assert done["live"] == served["live"] + 1  # a new generation, filled from history, is served
    assert done["events_total"] >= 3 * 10 and done["events_done"] == done["events_total"]
    assert shown[-1].startswith("figures: generation")
    assert before["figures"]["counters"]["received"] >= len(dossiers)
    assert after == before


async def test_a_departments_consumer_reads_the_snapshots_with_the_contracts_alone(
    stack: Stack, dossiers: list[dict[str, Any]]
) -> None:
    command = [
        sys.executable,
        str(EXAMPLE),
        "--bootstrap",
        stack.kafka_bootstrap,
        "--user",
        "reader",
        "--password",
        stack.secrets()["kafka.reader"],
        "--topics",
        "motcua.stats.v1",
        "--from-beginning",
        "--group",
        f"reader.e2e-{uuid.uuid4().hex[:8]}",
        "--max-events",
        "3",
    ]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "stats.snapshot" in line]
    assert len(lines) == 3 and all("received=" in line and "index=" in line for line in lines)
