"""The recognition job: documents waiting for OCR are read by Tesseract in the worker processes
(`MOTCUA_WORKERS` of them), a few at a time, so a large scan never stalls the service's requests
or its events. The text and its words (without diacritics) are kept on the document."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.runtime import Runtime, Tx, utcnow

from . import store
from .domain import StoredDocument
from .ocr import Recognised, RecognitionFailed, recognise, words

log = logging.getLogger(__name__)
IDLE_S = 1.0  # how often an idle job looks for new documents


async def recognise_documents(runtime: Runtime[Any]) -> None:
    """Runs for the life of the service."""
    settings = runtime.context.settings
    while True:
        try:
            pending = await store.awaiting_recognition(runtime, settings.ocr_batch * settings.workers)
            if pending:
                await asyncio.gather(*(recognise_one(runtime, document) for document in pending))
                continue
        except Exception as error:  # the database or the file store away: the documents wait, nothing is lost
            log.warning("recognition postponed", extra={"fields": {"error": type(error).__name__}})
        await asyncio.sleep(IDLE_S)


async def recognise_one(runtime: Runtime[Any], document: StoredDocument) -> None:
    settings = runtime.context.settings
    started = asyncio.get_running_loop().time()
    try:
        data = await runtime.files.read(document.sha256)
        found: Recognised | str = await runtime.workers.run(recognise, data, document.media_type, settings.ocr_language)
    except RecognitionFailed as failure:
        found = str(failure)
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
