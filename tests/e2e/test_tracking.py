"""Public tracking: the owner sees the history; anyone else gets the unknown-code answer;
the page works in a real headless Chromium; look-ups are rate-limited."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from infra.stack import Stack

from .support import database, submit_and_complete, wait_all_notified, wait_until

pytestmark = pytest.mark.e2e
CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def completed(stack: Stack) -> dict:
    [receipt] = await submit_and_complete(stack, count=1, rate=1, seed=31)
    await wait_all_notified(stack, [receipt["dossier_code"]])
    tracking = database(stack, "intake")["tracking"]

    def history_complete() -> bool:  # intake follows the other services' topics at its own pace
        history = tracking.find_one({"_id": receipt["dossier_code"]}) or {"steps": []}
        return {"result.signed", "dossier.completed", "citizen.notified"} <= {
            step["event"] for step in history["steps"]
        }

    await wait_until(history_complete, "intake's tracking history to reach the notification", timeout=60)
    async with httpx.AsyncClient(base_url=stack.service_url("intake")) as client:
        dossier = (
            await client.get(f"/dossiers/{receipt['dossier_code']}/receipt?token={receipt['access_token']}")
        ).json()
    return receipt | {"receipt": dossier}


async def test_owner_sees_status_history_and_due_date(stack: Stack, completed: dict) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("intake")) as client:
        for owner in (completed["phone"], completed["identity_number"]):
            response = await client.post("/api/track", json={"code": completed["dossier_code"], "owner": owner})
            assert response.status_code == 200
            body = response.json()
            steps = [step["status"] for step in body["history"]]
            assert steps[0] == "Đã tiếp nhận hồ sơ"
            assert "Đã ký số kết quả" in steps and "Đã có kết quả, trả kết quả" in steps
            assert body["due_at"] == completed["due_at"]


async def test_a_decided_dossier_can_no_longer_be_withdrawn(stack: Stack, completed: dict) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("intake")) as client:
        response = await client.post(
            f"/dossiers/{completed['dossier_code']}/withdrawal",
            params={"token": completed["access_token"]},
            json={"owner": completed["phone"], "reason": "muộn"},
        )
    assert response.status_code == 409
    assert "result returned" in response.text


async def test_wrong_owner_gets_the_same_answer_as_an_unknown_code(stack: Stack, completed: dict) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("intake")) as client:
        wrong_owner = await client.post("/api/track", json={"code": completed["dossier_code"], "owner": "0900000001"})
        unknown = await client.post("/api/track", json={"code": "H40.101-990101-0001", "owner": completed["phone"]})
    assert wrong_owner.status_code == unknown.status_code == 404
    assert wrong_owner.json() == unknown.json()


def test_tracking_page_in_headless_chromium(stack: Stack, completed: dict, tmp_path: Path) -> None:
    url = f"{stack.service_url('intake')}/track?code={completed['dossier_code']}#owner={completed['phone']}"

    def browse(*extra: str) -> str:
        command = [*CHROMIUM, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", *extra, url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout

    dom = browse("--dump-dom")
    assert f'<h2 id="dossier">{completed["dossier_code"]}</h2>' in dom
    assert "Đã có kết quả, trả kết quả" in dom
    assert 'id="status">Đã' in dom
    browse("--screenshot=page.png", "--window-size=900,900")
    assert (tmp_path / "page.png").stat().st_size > 10_000


async def test_look_ups_are_rate_limited_per_client_across_replicas(stack: Stack, completed: dict) -> None:
    # Two replicas of their own with the default limit (the local stack raises it for the others:
    # its clients share one address), asked in turn by one client, from an address no other
    # test uses, with a forged X-Forwarded-For each time: one budget of 20 between them.
    for replica in (3, 4):
        await asyncio.to_thread(stack.start_service, "intake", replica, {"MOTCUA_TRACKING_PER_MINUTE": "20"})
    for replica in (3, 4):
        await asyncio.to_thread(stack.wait_ready, "intake", 90, replica)
    if datetime.now().second > 50:  # keep the 30 look-ups inside one minute's window
        await asyncio.sleep(61 - datetime.now().second)
    lookup = {"code": completed["dossier_code"], "owner": completed["phone"]}
    answers: list[httpx.Response] = []
    try:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.7")
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            for i in range(30):
                url = stack.service_url("intake", replica=3 + i % 2)
                forged = {"X-Forwarded-For": f"198.51.100.{i}"}
                answers.append(await client.post(f"{url}/api/track", json=lookup, headers=forged))
    finally:
        for replica in (3, 4):
            await asyncio.to_thread(stack.stop, f"intake-{replica}")
    statuses = [answer.status_code for answer in answers]
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}, statuses
    assert {answer.url.port for answer in answers[20:]} == {stack.service_port("intake", r) for r in (3, 4)}
    assert all(1 <= int(answer.headers["retry-after"]) <= 60 for answer in answers[20:])
