"""The broker or the database crashes (kill -9) in the middle of a few hundred dossiers and
comes back: every dossier completes exactly once, nothing is dead-lettered by the outage.

Nothing leaves a service before the transaction that produced it is durable (journaled,
majority write concern, a server that syncs each commit), and consumers commit offsets only
after their transaction; so a crash can delay work but neither lose nor repeat it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import pytest

from infra.stack import Stack

from .support import officials, settled, submit_dossiers, wait_all_notified
from .test_walking_skeleton import assert_completed_exactly_once, assert_exactly_one_effect_each

pytestmark = pytest.mark.e2e

COUNT, RATE = 120, 10  # 12 s of submissions: the crash comes 8 s in, mid-load


async def crash_and_restart(stack: Stack, process: str, start: Callable[[], None], after: float, down: float) -> None:
    await asyncio.sleep(after)
    stack.stop(process, signal.SIGKILL)  # no flush, no clean shutdown
    await asyncio.sleep(down)
    await asyncio.to_thread(start)


async def run_through_a_crash(stack: Stack, process: str, start: Callable[[], None], seed: int) -> None:
    async with officials(stack) as working:
        submitting = asyncio.create_task(
            submit_dossiers(
                stack, count=COUNT, rate=RATE, seed=seed, on_receipt=lambda r: working.add(r["dossier_code"])
            )
        )
        await crash_and_restart(stack, process, start, after=8, down=15)
        receipts = await submitting
        await settled(working, receipts, timeout=600)
    codes = [r["dossier_code"] for r in receipts]
    fees = {r["dossier_code"]: r["fee_vnd"] for r in receipts}
    assert len(set(codes)) == COUNT  # each submission one dossier, retries included
    await wait_all_notified(stack, codes, timeout=300)
    assert_exactly_one_effect_each(stack, codes, fees)
    await assert_completed_exactly_once(stack, codes, fees)


async def test_a_broker_crash_mid_load_loses_and_repeats_nothing(stack: Stack) -> None:
    def start() -> None:
        stack.start_kafka()
        stack.provision_kafka()  # waits until the broker answers again

    await run_through_a_crash(stack, "kafka", start, seed=31)


async def test_a_database_crash_mid_load_loses_and_repeats_nothing(stack: Stack) -> None:
    def start() -> None:
        stack.start_mongodb()
        stack.wait_for_mongodb()

    await run_through_a_crash(stack, "mongodb", start, seed=32)
