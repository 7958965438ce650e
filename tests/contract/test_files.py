"""One contract, two adapters: the file store keeps files by the SHA-256 of their bytes, once,
in memory (the fast tests) and in GridFS on the MongoDB-protocol server (every deployment)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.stack import Stack
from services.runtime.files import CHUNK_BYTES, AlteredFile, Files, MemoryFiles, MissingFile, MongoFiles


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FilesContract:
    @pytest.fixture
    async def files(self) -> AsyncIterator[Files]:
        raise NotImplementedError
        yield

    async def test_a_file_is_kept_once_under_its_hash(self, files: Files, tmp_path: Path) -> None:
        data = os.urandom(3 * CHUNK_BYTES + 17)  # several chunks and a partial one
        assert await files.put(sha(data), data) is True
        path = tmp_path / "same"
        path.write_bytes(data)
        assert await files.put(sha(data), path) is False  # the same bytes again: nothing new stored
        assert await files.read(sha(data)) == data
        assert b"".join([chunk async for chunk in files.stream(sha(data))]) == data
        assert await files.size(sha(data)) == len(data)

    async def test_bytes_that_are_not_the_named_hash_are_refused(self, files: Files) -> None:
        with pytest.raises(AlteredFile):
            await files.put(sha(b"one"), b"another")
        assert await files.size(sha(b"one")) is None

    async def test_an_unknown_file_is_missing(self, files: Files) -> None:
        with pytest.raises(MissingFile):
            await files.read(sha(b"never stored"))
        assert await files.size(sha(b"never stored")) is None
        with pytest.raises(ValueError):
            await files.read("../../etc/passwd")


class TestInMemory(FilesContract):
    @pytest.fixture
    async def files(self) -> AsyncIterator[Files]:
        yield MemoryFiles()


@pytest.mark.e2e
class TestGridFS(FilesContract):
    @pytest.fixture
    async def files(self, stack: Stack) -> AsyncIterator[Files]:
        name = f"motcua_files_contract_{datetime.now(UTC):%H%M%S%f}"
        files = MongoFiles(stack.mongo_url, name)
        try:
            yield files
        finally:
            await files.client.drop_database(name)
            await files.close()
