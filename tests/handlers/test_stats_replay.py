"""Rebuild by replay, without the broker: the replay's records fed by hand to what `run()` feeds
them to. A rebuilt generation holds the same numbers and is served when it has caught up; a
new read model fills from history while the others go on being served and fed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from motcua_contracts import DossierReceived, Envelope, Event

from services.runtime import Tx
from services.runtime.documents import Documents
from services.stats import replay, store

from .events import received
from .test_stats import PERIOD, deliver_all, lifecycle, running


def records(envelopes: Sequence[Envelope]) -> list[ConsumerRecord]:
    """The envelopes as a topic of one partition holds them."""
    return [
        ConsumerRecord("history", 0, offset, 0, 0, None, envelope.to_bytes(), None, 0, 0, [])
        for offset, envelope in enumerate(envelopes)
    ]


HISTORY = TopicPartition("history", 0)


async def replayed(stats: Any, model: store.ReadModel, envelopes: Sequence[Envelope], *, halfway: Any = None) -> None:
    history = records(envelopes)
    rebuild = await replay.Replay.resume(stats.runtime, model, {HISTORY: 0}, {HISTORY: len(history)})
    await rebuild.add(history[: len(history) // 2])
    if halfway is not None:
        await halfway()
    await rebuild.add(history[len(history) // 2 :], last=True)
    await rebuild.finish()


async def test_a_rebuilt_generation_gives_the_same_numbers_and_replaces_the_old_one() -> None:
    async with running() as stats:
        envelopes = [await stats.deliver(e, commune=e.dossier_code.split("-")[0]) for e in lifecycle()]
        await replayed(stats, store.FIGURES, envelopes)  # the first start's fill of generation 1
        async with stats.http() as client:
            before = (await client.get("/stats/figures", params=PERIOD)).json()
            ranking = (await client.get("/stats/ranking", params=PERIOD)).json()
            opened = await replay.request(stats.runtime, store.FIGURES)
            assert opened["building"] == 2  # generation 1 stays served meanwhile

            async def while_rebuilding() -> None:
                progress = (await client.get("/stats/rebuild")).json()["models"][0]
                assert (progress["state"], progress["live"], progress["building"]) == ("rebuilding", 1, 2)
                assert progress["events_done"] == len(envelopes) // 2 and progress["events_total"] == len(envelopes)
                assert (await client.get("/stats/figures", params=PERIOD)).json() == before

            await replayed(stats, store.FIGURES, envelopes, halfway=while_rebuilding)
            after = (await client.get("/stats/figures", params=PERIOD)).json()
            progress = (await client.get("/stats/rebuild")).json()["models"][0]
            assert (await client.get("/stats/ranking", params=PERIOD)).json() == ranking
    assert after == before
    assert (progress["state"], progress["live"], progress["percent"]) == ("live", 2, 100.0)
    assert "days.1" not in stats.documents.data and "dossiers.1" not in stats.documents.data


@dataclass(frozen=True)
class Receipts:
    """A read model added in a later version of stats: the dossiers received, one row each."""

    name: str = "receipts"
    version: int = 1
    events: tuple[type[Event], ...] = (DossierReceived,)

    def collections(self, generation: int) -> tuple[str]:
        return (f"receipts.{generation}",)

    async def prepare(self, documents: Documents, generation: int) -> None:
        return None

    def fold(self, partial: dict[str, Any], events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, DossierReceived):
                partial[event.dossier_code] = event.procedure_code

    async def project(self, tx: Tx, generation: int, events: Sequence[Event]) -> None:
        partial: dict[str, Any] = {}
        self.fold(partial, events)
        await self.absorb(tx, generation, partial)

    async def absorb(self, tx: Tx, generation: int, partial: dict[str, Any]) -> None:
        for code, procedure in partial.items():
            tx.save(f"receipts.{generation}", {"_id": code, "procedure": procedure})


async def test_a_new_read_model_fills_from_history_while_the_others_are_served_and_fed() -> None:
    async with running() as stats:
        history = [await stats.deliver(e, commune=e.dossier_code.split("-")[0]) for e in lifecycle()]
        await replayed(stats, store.FIGURES, history)  # figures: built and served
        new = Receipts()
        stats.context.models = (*stats.context.models, new)  # stats upgraded with a new model
        opened = await replay.ensure(stats.runtime, new)
        assert (opened["live"], opened["building"]) == (1, 1)  # filled from history, served as it fills
        late = received("H40.103-261124-0001")

        async def a_dossier_arrives() -> None:  # the live path feeds both models meanwhile
            await deliver_all(stats, [late])

        await replayed(stats, new, history, halfway=a_dossier_arrives)
        async with stats.http() as client:
            figures = (await client.get("/stats/figures", params=PERIOD)).json()
            models = {m["model"]: m for m in (await client.get("/stats/rebuild")).json()["models"]}
    receipts = stats.documents.data["receipts.1"]
    assert set(receipts) == {e.dossier_code for e in [*lifecycle(), late] if isinstance(e, DossierReceived)}
    assert figures["counters"]["received"] == 7 + 1 - 1  # six this period, one carried over, the late one
    assert (models["receipts"]["state"], models["figures"]["state"]) == ("live", "live")
