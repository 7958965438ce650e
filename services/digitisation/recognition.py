"""The recognition job: documents waiting for OCR are read by Tesseract in OCR's own worker
processes (`MOTCUA_OCR_WORKERS` of them), a few at a time, so a large scan or a backlog of them
never stalls the service's requests (their checks run in the other workers) or its events. The
text and its words (without diacritics) are kept on the document."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.runtime import Runtime, Tx, utcnow
from services.runtime.files import MissingFile

from . import store
from .domain import StoredDocument
from .ocr import Recognised, RecognitionFailed, recognise, words

log = logging.getLogger(__name__)
IDLE_S = 1.0  # how often an idle job looks for new documents


async def recognise_documents(runtime: Runtime[Any]) -> None:
    """Runs for the life of the service."""
    settings = runtime.context.settings
    while True:
        pending: list[StoredDocument] = []
        try:
            pending = await store.awaiting_recognition(runtime, settings.ocr_batch * settings.ocr_workers)
            # every document of the round finishes (or fails) before the next round is read
            done = await asyncio.gather(*(recognise_one(runtime, d) for d in pending), return_exceptions=True)
            failures = [outcome for outcome in done if isinstance(outcome, Exception)]
        except Exception as error:
            failures = [error]
        if failures:  # the database or the file store away: the documents wait, nothing is lost
            log.warning("recognition postponed", extra={"fields": {"error": type(failures[0]).__name__}})
        if failures or not pending:
            await asyncio.sleep(IDLE_S)


async def recognise_one(runtime: Runtime[Any], document: StoredDocument) -> None:
    settings = runtime.context.settings
    started = asyncio.get_running_loop().time()
    try:
        data = await runtime.files.read(document.sha256)
        found: Recognised | str = await runtime.context.ocr.run(
            recognise, data, document.media_type, settings.ocr_language
        )
    except (RecognitionFailed, MissingFile) as failure:
        found = f"{type(failure).__name__}: {failure}"
    seconds = asyncio.get_running_loop().time() - started

    async def keep(tx: Tx) -> None:
        current = await store.load_document(tx, document.id)
        if current is None or current.recognition != "pending":
            return
        if isinstance(found, str):
            current.recognition, current.text = "failed", None
        else:
            current.recognition, current.text, current.words = "done", found.text, words(found.text)
        store.save_document(tx, current)

    await runtime.transact(keep)
    outcome = {"document": document.id, "seconds": round(seconds, 2), "recognised_at": utcnow().isoformat()}
    if isinstance(found, str):
        log.warning("recognition failed", extra={"fields": outcome | {"reason": found}})
    else:
        log.info("document recognised", extra={"fields": outcome | {"pages": found.recognised_pages}})
