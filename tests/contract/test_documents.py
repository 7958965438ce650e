"""One contract, two adapters: what services may ask of their database behaves the same
in memory (the fast tests) and on the MongoDB-protocol server (every deployment)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infra.stack import Stack
from services.runtime.documents import Documents, Duplicate, MemoryDocuments, MongoDocuments, Writer

T0 = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


class DocumentsContract:
    """Every adapter passes these; subclasses provide `documents`."""

    @pytest.fixture
    async def documents(self) -> AsyncIterator[Documents]:
        raise NotImplementedError
        yield

    async def test_put_get_and_times_come_back_in_utc_to_the_millisecond(self, documents: Documents) -> None:
        await documents.put("dossiers", [{"_id": "A", "due_at": T0, "steps": ("a", "b"), "n": 1}])
        found = await documents.get("dossiers", "A")
        assert found == {"_id": "A", "due_at": T0.replace(microsecond=123000), "steps": ["a", "b"], "n": 1}
        assert found["due_at"].utcoffset() == timedelta(0)
        assert await documents.get("dossiers", "missing") is None
        assert set(await documents.get_many("dossiers", ["A", "B"])) == {"A"}

    async def test_insert_refuses_a_taken_id(self, documents: Documents) -> None:
        await documents.insert("keys", [{"_id": "k1"}])
        with pytest.raises(Duplicate):
            await documents.insert("keys", [{"_id": "k1"}])

    async def test_find_with_the_supported_query_subset(self, documents: Documents) -> None:
        rows = [
            {"_id": "a", "unit": "U1", "roles": ["leader", "admin"], "open": 3, "due": T0, "meta": {"k": 1}},
            {"_id": "b", "unit": "U1", "roles": ["specialist"], "open": 1, "due": None, "meta": {"k": 2}},
            {"_id": "c", "unit": "U2", "roles": ["leader"], "open": 0, "due": T0 + timedelta(days=1)},
        ]
        await documents.put("officials", rows)

        async def ids(where: dict, **options: object) -> list[str]:
            return [r["_id"] for r in await documents.find("officials", where, **options)]  # type: ignore[arg-type]

        assert await ids({"unit": "U1"}, order=[("_id", 1)]) == ["a", "b"]
        assert await ids({"roles": "leader"}, order=[("_id", -1)]) == ["c", "a"]
        assert await ids({"_id": {"$in": ["a", "c", "z"]}}, order=[("_id", 1)]) == ["a", "c"]
        assert await ids({"roles": {"$nin": ["admin"]}}, order=[("_id", 1)]) == ["b", "c"]
        assert await ids({"roles": {"$all": ["admin", "leader"]}}) == ["a"]
        assert await ids({"roles": {"$all": ["leader"]}}, order=[("_id", 1)]) == ["a", "c"]
        assert await ids({"unit": {"$ne": "U1"}}) == ["c"]
        assert await ids({"open": {"$gte": 1, "$lt": 3}}) == ["b"]
        assert await ids({"due": {"$lte": T0}}) == ["a"]  # null never compares
        assert await ids({"due": None}) == ["b"]
        assert await ids({"meta.k": 2}) == ["b"]
        assert await ids({}, order=[("due", 1), ("_id", 1)]) == ["b", "a", "c"]  # null first
        assert await ids({}, order=[("open", -1)], limit=2) == ["a", "b"]

    async def test_a_transaction_commits_whole_or_not_at_all(self, documents: Documents) -> None:
        async def fail(writer: Writer) -> None:
            await writer.put("accounts", [{"_id": "x", "balance": 1}])
            await writer.increment("counters", "c", "value")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await documents.transaction(fail)
        assert await documents.get("accounts", "x") is None
        assert await documents.get("counters", "c") is None

        async def succeed(writer: Writer) -> int:
            await writer.put("accounts", [{"_id": "x", "balance": 1}])
            assert (await writer.get("accounts", "x")) == {"_id": "x", "balance": 1}  # reads its own writes
            return await writer.increment("counters", "c", "value")

        assert await documents.transaction(succeed) == 1
        assert await documents.get("accounts", "x") == {"_id": "x", "balance": 1}

    async def test_concurrent_counters_are_gap_free(self, documents: Documents) -> None:
        async def next_number(writer: Writer) -> int:
            return await writer.increment("sequences", "H40.101:20261124", "value")

        numbers = await asyncio.gather(*(documents.transaction(next_number) for _ in range(20)))
        assert sorted(numbers) == list(range(1, 21))

    async def test_an_expiring_counter_keeps_the_time_it_was_created_with(self, documents: Documents) -> None:
        await documents.expire("limits")
        await documents.expire("limits")  # again at every start: nothing changes
        assert await documents.increment("limits", "k", "used", expires_at=T0) == 1
        assert await documents.increment("limits", "k", "used", expires_at=T0 + timedelta(hours=1)) == 2
        assert await documents.get("limits", "k") == {
            "_id": "k",
            "used": 2,
            "expires_at": T0.replace(microsecond=123000),
        }
        assert await documents.increment("limits", "plain", "used") == 1
        assert await documents.get("limits", "plain") == {"_id": "plain", "used": 1}

    async def test_concurrent_first_increments_of_a_counter_count_every_one(self, documents: Documents) -> None:
        counts = await asyncio.gather(*(documents.increment("limits", "new", "used", expires_at=T0) for _ in range(20)))
        assert sorted(counts) == list(range(1, 21))

    async def test_delete(self, documents: Documents) -> None:
        await documents.put("outbox", [{"_id": 1}, {"_id": 2}, {"_id": 3}])
        await documents.delete("outbox", [1, 3])
        assert [r["_id"] for r in await documents.find("outbox")] == [2]


class TestInMemory(DocumentsContract):
    @pytest.fixture
    async def documents(self) -> AsyncIterator[Documents]:
        yield MemoryDocuments()


@pytest.mark.e2e
class TestMongoDB(DocumentsContract):
    @pytest.fixture
    async def documents(self, stack: Stack) -> AsyncIterator[Documents]:
        name = f"motcua_contract_{datetime.now(UTC):%H%M%S%f}"
        documents = MongoDocuments(stack.mongo_url, name)
        try:
            yield documents
        finally:
            await documents.client.drop_database(name)
            await documents.close()
