"""The sender's pace per channel: under the provider's rate, slower when it says "too many"."""

from __future__ import annotations

import asyncio
import itertools

from services.notification.context import Pace


async def test_sends_start_no_closer_than_the_rate_allows() -> None:
    pace = Pace(per_second=50)
    slots = []
    for _ in range(5):
        await pace.wait()
        slots.append(pace.next_slot - pace.interval)  # the slot this send was given (a busy loop may wake it later)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 0.02 * 0.999  # 1/50 s apart


async def test_too_many_holds_the_channel_and_halves_the_pace_once_per_hold() -> None:
    pace = Pace(per_second=20)
    for _ in range(16):  # sixteen sends in flight all hear "too many"
        pace.too_many(retry_after=0.2)
    assert pace.interval == 0.1  # halved once, not sixteen times
    loop = asyncio.get_running_loop()
    before = loop.time()
    await pace.wait()
    assert loop.time() - before >= 0.18  # held for the Retry-After
    pace.too_many(retry_after=0.01)  # the hold is over: a new "too many" halves again
    assert pace.interval == 0.2
    for _ in range(40):
        pace.speed_up()
    assert pace.interval == 0.05  # back to the configured rate, never faster
