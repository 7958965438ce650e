"""The live dashboard in a real browser on the real stack: the province's figures and the 130
communes' ranking, in Vietnamese, on a desk and on a phone; a dossier received while the page is
open shows in its figures without a reload; its commune's drill-down draws the service index; the
page runs under the edge's Content-Security-Policy and nothing spills sideways on a phone."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.stack import Stack

from .test_payment import submit

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(".data") / "test" / "screenshots"
DESK = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
COMMUNE, COMMUNE_NAME = "H40.101", "Xã An Hiệp"  # where `submit` files its dossier
RANKED = "#ranking-table tbody tr[data-unit]"


def number(text: str) -> int:
    """A figure as the page writes it (Vietnamese: 1.234)."""
    return int(text.strip().replace(".", ""))


async def received(page: Any, within: str = "#figures") -> int:
    return number(await page.inner_text(f"{within} [data-figure=received] .value"))


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    """Wait for `check` (the page forbids eval, so no `wait_for_function`)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.5)


async def opened(browser: Any, url: str, viewport: dict[str, int], problems: list[str]) -> Any:
    """The dashboard at `viewport`, its figures and ranking drawn; script errors and refusals by
    the page's policy noted in `problems`."""
    page = await browser.new_page(viewport=viewport)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and "Security Policy" in m.text and problems.append(m.text))
    await page.goto(url)
    await page.locator(RANKED).nth(129).wait_for()
    await page.locator("#live[data-state=live]").wait_for()
    return page


async def fits(page: Any) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_the_dashboard_shows_the_province_live_and_drills_down_to_a_commune(stack: Stack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = f"{stack.service_url('stats')}/dashboard"
    problems: list[str] = []

    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        desk = await opened(browser, url, DESK, problems)
        loads: list[str] = []
        desk.on("load", lambda page: loads.append(page.url))
        overview = await desk.inner_text("#overview")
        for label in ("Tổng quan tỉnh", "Tiếp nhận", "Đã giải quyết", "Trước hạn và đúng hạn", "Đang quá hạn"):
            assert label in overview, overview
        assert await desk.locator(RANKED).count() == 130
        assert re.fullmatch(r"1/\d+|Chưa xếp hạng", await desk.locator(f"{RANKED} td.rank").first.inner_text())
        assert await desk.locator("#index-body [data-group]").count() == 5
        assert await desk.locator("#trend-chart svg[role=img] title").count() >= 1
        updated = await desk.inner_text("#updated")
        before = await received(desk)

        # a dossier received while the page is open: its figure grows, the page never reloads
        receipt = await submit(stack, "1.004194", seed=1401)
        assert receipt["dossier_code"].startswith(COMMUNE)

        async def grown() -> bool:
            return await received(desk) > before

        await until(grown, "the received figure to grow on the open page")
        assert loads == [] and await desk.inner_text("#updated") != updated
        assert re.fullmatch(r"Cập nhật lúc \d\d:\d\d:\d\d", await desk.inner_text("#updated"))
        await desk.screenshot(path=str(SCREENSHOTS / "dashboard-desk.png"), full_page=True)

        # the dossier's commune: its figures, its index with each group's points drawn
        await desk.locator(f"{RANKED}[data-unit='{COMMUNE}'] button").click()
        await desk.locator("#detail-index [data-group] .bar").nth(4).wait_for()
        assert COMMUNE_NAME in await desk.inner_text("#detail-scope")
        assert await received(desk, "#detail-figures") >= 1
        assert re.fullmatch(r"Xếp hạng \d+/\d+", await desk.inner_text("#detail-index .rank-pill"))
        indicators = await desk.inner_text("#detail-index")
        assert re.search(r"mất \d+(,\d+)? điểm|đủ điểm", indicators), indicators
        await desk.locator("#fields tbody th button").first.wait_for()
        assert "Cư trú" in await desk.inner_text("#fields")
        await desk.locator("#fields tbody th button", has_text="Cư trú").click()
        await desk.locator("#procedures tbody tr").first.wait_for()
        await desk.screenshot(path=str(SCREENSHOTS / "dashboard-desk-commune.png"), full_page=True)
        csv = await desk.get_attribute("#report-csv", "href")
        assert csv and f"unit={COMMUNE}" in csv
        async with httpx.AsyncClient(base_url=stack.service_url("stats"), timeout=30) as client:
            report = await client.get(csv)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")

        # a phone: everything reachable, nothing wider than the screen, before and after the drill-down
        phone = await opened(browser, url, PHONE, problems)
        assert await received(phone) > before
        assert await fits(phone), "the page is wider than a phone"
        await phone.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
        await phone.locator(f"{RANKED}[data-unit='{COMMUNE}'] button").click()
        await phone.locator("#detail-index [data-group] .bar").nth(4).wait_for()
        assert await fits(phone), "the commune's details are wider than a phone"
        await phone.screenshot(path=str(SCREENSHOTS / "dashboard-phone-commune.png"), full_page=True)
        await browser.close()
    assert not problems, problems
