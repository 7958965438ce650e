"""The receiving officer scans a dossier's paper at the counter, through digitisation's and
signing's APIs, as the counter's scanning client does: read which components await a scan, send
the scanned pages (`infra/scanner.py` plays the scanner), fetch the assembled copy, sign it with
the officer's own certificate at signing, hand the signed copy back.

Digitisation learns that routing gave the officer the dossier from routing's topic, a moment
after the claim: until then it does not show them the dossier (404), and the desk looks again."""

from __future__ import annotations

import asyncio
import time

import httpx

from services.runtime.retry import backoff

from .casework import Verdict
from .platform_api import PlatformApi, Tally, detail_of
from .scanner import paper_component

LOOK_AGAIN_S, LOOK_AGAIN_CAP_S = 0.25, 5.0
PDF = "application/pdf"


class ScanningDesk:
    def __init__(self, api: PlatformApi, tally: Tally, patience: float) -> None:
        self.api, self.tally, self.patience = api, tally, patience

    async def scan_paper(self, code: str, official: str) -> None:
        """Scan, sign and hand back every component of dossier `code` that awaits a scan."""
        listing = await self._dossier(code, official)
        if listing is None:
            return
        for number, component in enumerate(listing["components"]):
            if not component["digitised"]:
                await self._scan(code, official, component["name"], seed=hash((code, number)) & 0xFFFF)

    async def _dossier(self, code: str, official: str) -> dict | None:
        deadline, attempt = time.monotonic() + self.patience, 0
        while True:
            response = await self.api.digitisation(official, "GET", f"/dossiers/{code}/documents")
            if response.status_code == 200:
                return response.json()
            if response.status_code != 404 or time.monotonic() > deadline:
                self.tally.count("scan", Verdict.UNEXPECTED, code, response)
                return None
            attempt += 1
            await asyncio.sleep(backoff(attempt, LOOK_AGAIN_S, cap=LOOK_AGAIN_CAP_S))

    async def _scan(self, code: str, official: str, component: str, seed: int) -> None:
        page = paper_component(component, "Nguyễn Văn Dân", seed=seed)
        files = {"pages": ("trang-1.jpg", page, "image/jpeg")}
        copy = await self.api.digitisation(
            official, "POST", f"/dossiers/{code}/scans", data={"component": component}, files=files
        )
        if not self._ok("scan pages", code, copy, 201):
            return
        pdf = await self.api.digitisation(official, "GET", copy.json()["copy_url"])
        if not self._ok("scan copy", code, pdf):
            return
        signed = await self.api.signing(
            official, "POST", "/scans/signature", content=pdf.content, headers={"Content-Type": PDF}
        )
        if not self._ok("scan signature", code, signed):
            return
        kept = await self.api.digitisation(
            official,
            "POST",
            f"/scans/{copy.json()['scan_id']}/signed",
            content=signed.content,
            headers={"Content-Type": PDF},
        )
        if kept.status_code == 409 and "already" in detail_of(kept):
            return  # a colleague's copy of it came first
        self._ok("scan", code, kept)

    def _ok(self, action: str, code: str, response: httpx.Response, expected: int = 200) -> bool:
        done = response.status_code == expected
        self.tally.count(action, Verdict.DONE if done else Verdict.UNEXPECTED, code, response)
        return done
