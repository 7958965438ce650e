"""Notification's timed work, in rounds every `MOTCUA_JOBS_EVERY_S`:

- complaint reminders that fell due (complaints.py);
- the leaders' daily digest of their unit's late dossiers, once a day after `MOTCUA_DIGEST_AT`
  (local time). Its messages are keyed by unit, day and leader, so a second replica, or a
  restart, sends none twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, time
from typing import Any

from services.runtime import Runtime, Tx, utcnow
from services.runtime.clock import local
from services.runtime.retry import backoff
from services.runtime.telemetry import dossier_span

from . import complaints, officials, store
from .context import Notifier

log = logging.getLogger(__name__)
DIGEST_LINES = 30  # dossiers listed in a digest; the count says how many more


async def notification_jobs(runtime: Runtime[Notifier]) -> None:
    every = runtime.context.settings.jobs_every_s
    failures = 0
    while True:
        try:
            now = utcnow()
            await remind_complaints(runtime, now)
            await send_digests(runtime, now)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("notification's timed work failed; trying again")
        await asyncio.sleep(backoff(failures, every) if failures else every)


async def remind_complaints(runtime: Runtime[Notifier], now: datetime) -> None:
    notifier = runtime.context

    async def work(tx: Tx) -> int:
        due = await complaints.due_reminders(tx, now)
        for complaint in due:
            code, trace = complaint["dossier_code"], complaint.get("trace", {})
            with dossier_span(runtime.tracer, "complaint reminder", code, trace):
                await complaints.remind(tx, notifier, complaint, now)
        return len(due)

    while await runtime.transact(work) == complaints.REMINDER_BATCH:
        pass


async def send_digests(runtime: Runtime[Notifier], now: datetime) -> bool:
    """Today's digests, if it is time and they are not queued yet; True when queued now."""
    notifier = runtime.context
    moment = local(now)
    if moment.time().replace(tzinfo=None) < time.fromisoformat(notifier.settings.digest_at):
        return False
    day = moment.date().isoformat()

    async def work(tx: Tx) -> bool:
        if await tx.load(store.DIGESTS, day) is not None:
            return False
        late = await tx.find(store.LATE, {"settled": False}, order=[("due_at", 1)])
        by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in late:
            by_unit[record["unit"]].append(record)
        for unit, dossiers in by_unit.items():
            await digest(tx, notifier, unit, moment.strftime("%d/%m/%Y"), day, dossiers)
        tx.save(store.DIGESTS, {"_id": day, "units": len(by_unit), "at": now})
        return True

    return await runtime.transact(work)


async def digest(
    tx: Tx, notifier: Notifier, unit: str, day_text: str, day: str, dossiers: list[dict[str, Any]]
) -> None:
    lines = [f"{d['_id']} — {d['procedure_name']} — hạn {local(d['due_at']):%d/%m/%Y}" for d in dossiers[:DIGEST_LINES]]
    if len(dossiers) > DIGEST_LINES:
        lines.append(f"… và {len(dossiers) - DIGEST_LINES} hồ sơ khác")
    values = {
        "unit_name": notifier.unit_name(unit),
        "day": day_text,
        "count": str(len(dossiers)),
        "dossiers": lines,
        "workspace_url": notifier.settings.workspace_url,
    }
    await officials.tell(tx, notifier, unit, f"official_digest@{day}", dossiers[0]["commune"], unit, None, values)
