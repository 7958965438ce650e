"""A file arriving over HTTP: copied to a scratch file while it is hashed and measured (never
held whole in memory), refused as soon as it passes the size limit, checked in a worker process,
and only then put in the file store. Shared by uploads and scans."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import UploadFile

from services.runtime import Runtime

from .checks import BadFile, Inspected, Limits, inspect

READ_BYTES = 256 * 1024


@dataclass(frozen=True)
class Received:
    path: Path
    sha256: str
    size: int
    inspected: Inspected


def refused(error: BadFile, name: str | None = None) -> HTTPException:
    """The answer to a refused file: its status, the problem's name and the reason."""
    detail = {"problem": error.problem, "message": str(error)} | ({"file": name} if name else {})
    return HTTPException(error.status, detail)


async def _spool(upload: UploadFile, limits: Limits, into: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with into.open("wb") as out:
        while chunk := await upload.read(READ_BYTES):
            size += len(chunk)
            if size > limits.max_bytes:
                raise BadFile("file_too_large", f"the file is larger than {limits.max_bytes} bytes", 413)
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise BadFile("file_empty", "the file is empty")
    return digest.hexdigest(), size


@asynccontextmanager
async def received(runtime: Runtime[Any], uploads: list[UploadFile], limits: Limits) -> AsyncIterator[list[Received]]:
    """The files, each spooled and checked (an HTTP error naming the file refuses them all); the
    scratch copies are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="motcua-upload-") as scratch:
        files = []
        for number, upload in enumerate(uploads, start=1):
            path = Path(scratch) / f"{number}"
            try:
                sha256, size = await _spool(upload, limits, path)
                inspected = await runtime.workers.run(inspect, path, limits)
            except BadFile as error:
                raise refused(error, upload.filename) from None
            files.append(Received(path, sha256, size, inspected))
        yield files
