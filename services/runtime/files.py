"""The platform's file store (kho lưu trữ tệp): every file's bytes, content-addressed by SHA-256.

A file is stored once under the hex SHA-256 of its bytes, whoever stores it and however
often: the same scan uploaded twice, or a result reused by ten dossiers, is one file. A
name that is the content's hash cannot be taken over or altered, so services hand files
to each other by reference (the claim-check pattern): a service stores the bytes here and
its event carries the hash, never the bytes. What a file *is* (which dossier, component,
owner, source, retention) is metadata that digitisation owns (ADR 13).

Files are written before the transaction that records them: a crash in between leaves a
file nobody refers to, never a record without its file. GridFS in MongoDB by default
(`MongoFiles`, in the database `motcua_files`), in memory for the fast tests; both pass
one contract (tests/contract/test_files.py).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pymongo import AsyncMongoClient

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK_BYTES = 255 * 1024  # GridFS's own chunk size
PUT_ATTEMPTS = 3
FILES_DATABASE = "motcua_files"


class MissingFile(LookupError):
    """No file with this SHA-256 is stored."""


class AlteredFile(ValueError):
    """The bytes read are not those the caller named by their hash."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Files(Protocol):
    async def put(self, sha256: str, source: Path | bytes) -> bool:
        """Store the file (a path, or bytes) under `sha256`, its content's hash (`AlteredFile` if it
        is not); False if it was stored already (nothing is written then)."""

    async def read(self, sha256: str) -> bytes:
        """The whole file (`MissingFile` if none)."""

    def stream(self, sha256: str) -> AsyncIterator[bytes]:
        """The file in chunks, for answers that should not hold it whole (`MissingFile` if none)."""

    async def size(self, sha256: str) -> int | None:
        """The file's length in bytes, None if it is not stored."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def _checked(sha256: str) -> str:
    if not SHA256.match(sha256):
        raise ValueError(f"not a SHA-256 in lowercase hex: {sha256!r}")
    return sha256


def _open(source: Path | bytes) -> BinaryIO:
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


class MongoFiles:
    """GridFS: `fs.files` holds each file's length and upload time under `_id` = its SHA-256,
    `fs.chunks` its bytes. Majority, journaled writes, as every other store of the platform."""

    def __init__(self, url: str, database: str = FILES_DATABASE) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            url, tz_aware=True, appname=database, w="majority", journal=True
        )
        self.db = self.client[database]
        self.bucket = AsyncGridFSBucket(self.db, chunk_size_bytes=CHUNK_BYTES)

    async def put(self, sha256: str, source: Path | bytes) -> bool:
        _checked(sha256)
        for _ in range(PUT_ATTEMPTS):
            if await self.size(sha256) is not None:
                return False
            # An upload cut short earlier (a crash) left chunks without their files document: clear them.
            await self.db["fs.chunks"].delete_many({"files_id": sha256})
            try:
                await self._upload(sha256, source)
                return True
            except FileExists:
                # Another writer finished first, or a cut-short upload's chunk landed late: look again;
                # the file is stored only once its files document exists.
                continue
        if await self.size(sha256) is None:
            raise OSError(f"{sha256} could not be stored after {PUT_ATTEMPTS} attempts")
        return False

    async def _upload(self, sha256: str, source: Path | bytes) -> None:
        digest = hashlib.sha256()
        with _open(source) as reader:
            async with self.bucket.open_upload_stream_with_id(sha256, sha256) as upload:
                while chunk := reader.read(CHUNK_BYTES):
                    digest.update(chunk)
                    await upload.write(chunk)
                if digest.hexdigest() != sha256:
                    # nothing of this upload is flushed yet: leave whatever another writer stored alone
                    raise AlteredFile(f"the bytes given are not those of {sha256}")

    async def read(self, sha256: str) -> bytes:
        return b"".join([chunk async for chunk in self.stream(sha256)])

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        try:
            download = await self.bucket.open_download_stream(_checked(sha256))
        except NoFile:
            raise MissingFile(sha256) from None
        while chunk := await download.readchunk():
            yield chunk

    async def size(self, sha256: str) -> int | None:
        found = await self.db["fs.files"].find_one({"_id": _checked(sha256)}, {"length": 1})
        return None if found is None else int(found["length"])

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()


class MemoryFiles:
    """Files in a dictionary, for the fast tests: same contract, no server."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, sha256: str, source: Path | bytes) -> bool:
        data = source.read_bytes() if isinstance(source, Path) else bytes(source)
        if hashlib.sha256(data).hexdigest() != _checked(sha256):
            raise AlteredFile(f"the bytes given are not those of {sha256}")
        if sha256 in self.files:
            return False
        self.files[sha256] = data
        return True

    async def read(self, sha256: str) -> bytes:
        try:
            return self.files[_checked(sha256)]
        except KeyError:
            raise MissingFile(sha256) from None

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        data = await self.read(sha256)
        for start in range(0, len(data), CHUNK_BYTES):
            yield data[start : start + CHUNK_BYTES]

    async def size(self, sha256: str) -> int | None:
        found = self.files.get(_checked(sha256))
        return None if found is None else len(found)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
