"""The sender: a background job that sends due messages on their channels, each channel paced
under its provider's rate limit, and records what became of each (messages.py has the rules).

A round claims a batch of due messages in one transaction (a lease: another replica, or this
one after a crash, takes a message again only once the lease has run out), sends them, the
channels side by side, and records each outcome in its own transaction, emitting
`citizen.notified` / `official.notified` once per message, `message.failed` for a message given
up (with the fallback queued in the same transaction).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from motcua_contracts import CitizenNotified, MessageFailed, OfficialNotified

from services.runtime import Runtime, Tx, utcnow
from services.runtime.retry import backoff
from services.runtime.telemetry import dossier_span

from . import store
from .channels import Accepted, Channel, Outgoing, PermanentFailure, TransientFailure
from .context import Notifier, Pace
from .messages import Message, mask

log = logging.getLogger(__name__)
CONCURRENCY = 16  # sends in flight per channel


async def send_messages(runtime: Runtime[Notifier]) -> None:
    """Background job: rounds for as long as the service runs; idle rounds pause."""
    settings = runtime.context.settings
    failures = 0
    while True:
        try:
            handled = await send_round(runtime)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("sending round failed; trying again")
            await asyncio.sleep(backoff(failures, settings.send_every_s))
            continue
        if handled < settings.send_batch:
            await asyncio.sleep(settings.send_every_s)


async def send_round(runtime: Runtime[Notifier], now: datetime | None = None) -> int:
    """Claim due messages and send them; how many were due."""
    notifier = runtime.context
    settings = notifier.settings
    now = now or utcnow()
    due = await store.due_messages(runtime, now, settings.send_batch)
    if not due:
        return 0
    claimed = await claim(runtime, [m.id for m in due], now, timedelta(seconds=settings.send_lease_s))
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for item in claimed:
        by_channel[item.channel].append(item)
    await asyncio.gather(*(send_on(runtime, channel, items) for channel, items in by_channel.items()))
    return len(due)


async def claim(runtime: Runtime[Notifier], ids: list[str], now: datetime, lease: timedelta) -> list[Message]:
    async def work(tx: Tx) -> list[Message]:
        await tx.prefetch(store.MESSAGES, ids)
        claimed = []
        for message_id in ids:
            item = await store.message(tx, message_id)
            if item is None or not item.due(now):
                continue  # another sender took it meanwhile
            if item.claim(now, lease):
                claimed.append(item)
            store.put_message(tx, item)
        return claimed

    return await runtime.transact(work)


async def send_on(runtime: Runtime[Notifier], channel_name: str, items: list[Message]) -> None:
    notifier = runtime.context
    channel = notifier.channels.get(channel_name)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Message) -> None:
        # in the dossier's own trace: the events the outcome publishes stay in it
        with dossier_span(runtime.tracer, f"notification send {channel_name}", item.subject, item.trace):
            if channel is None:
                outcome: Accepted | Exception = PermanentFailure(f"channel {channel_name} is not configured")
            else:
                async with gate:
                    outcome = await attempt(channel, notifier.pace(channel_name), item)
            await record(runtime, item.id, outcome)

    async def attempt(channel: Channel, pace: Pace, item: Message) -> Accepted | Exception:
        await pace.wait()
        try:
            accepted = await channel.send(outgoing(notifier, item))
        except (TransientFailure, PermanentFailure) as failure:
            if isinstance(failure, TransientFailure) and failure.rate_limited:
                pace.too_many(failure.retry_after or 1.0)
            return failure
        except Exception as error:  # an adapter's bug must not stop the others
            log.exception("channel %s failed unexpectedly", channel_name)
            return TransientFailure(f"{type(error).__name__}")
        pace.speed_up()
        return accepted

    await asyncio.gather(*(one(item) for item in items))


def outgoing(notifier: Notifier, item: Message) -> Outgoing:
    """The message as its channel sends it: rendered from its template, or a webhook's JSON."""
    if item.channel == "webhook":
        payload = json.dumps(item.values, ensure_ascii=False, separators=(",", ":")).encode()
        return Outgoing(item.id, item.to, "", payload=payload)
    rendered = notifier.templates.render(item.template, item.channel, item.values)
    return Outgoing(
        item.id,
        item.to,
        rendered.text,
        subject=rendered.subject,
        zns_template=rendered.zns_template,
        zns_data=rendered.zns_data or {},
    )


async def record(runtime: Runtime[Notifier], message_id: str, outcome: Accepted | Exception) -> None:
    notifier = runtime.context
    settings = notifier.settings

    async def work(tx: Tx) -> None:
        item = await store.message(tx, message_id)
        if item is None or item.state != "sending":
            if item is not None and isinstance(outcome, Accepted) and item.sent(outcome.provider_id, utcnow()):
                announce_sent(tx, item)  # its delivery report came first
                store.put_message(tx, item)
            return
        now = utcnow()
        if isinstance(outcome, Accepted):
            if item.sent(outcome.provider_id, now):
                announce_sent(tx, item)
        elif isinstance(outcome, TransientFailure) and outcome.rate_limited:
            # asked to slow down: not the message's fault, not an attempt
            item.attempts -= 1
            item.retry(str(outcome), now, timedelta(seconds=outcome.retry_after or 1.0))
        elif isinstance(outcome, TransientFailure) and item.attempts < settings.send_attempts:
            pause = max(outcome.retry_after or 0.0, backoff(item.attempts, settings.send_retry_s))
            item.retry(str(outcome), now, timedelta(seconds=pause))
        else:
            give_up(tx, item, str(outcome), now)
        store.put_message(tx, item)

    await runtime.transact(work)
    counter = notifier.sent if isinstance(outcome, Accepted) else notifier.failed
    if counter is not None:
        kind = "accepted" if isinstance(outcome, Accepted) else type(outcome).__name__
        counter.labels(runtime.name, message_id.rsplit(":", 1)[-1], kind).inc()


def announce_sent(tx: Tx, item: Message) -> None:
    assert item.sent_at is not None
    if item.audience == "citizen":
        tx.emit(
            CitizenNotified(
                dossier_code=item.subject,
                channel=item.channel,  # type: ignore[arg-type]
                template=item.template,
                recipient=mask(item.to),
                sent_at=item.sent_at,
                message_id=item.id,
                attempts=max(item.attempts, 1),
            ),
            commune=item.commune,
        )
    elif item.audience == "official":
        assert item.official is not None and item.role is not None
        tx.emit(
            OfficialNotified(
                dossier_code=item.subject,
                channel=item.channel,  # type: ignore[arg-type]
                template=item.template,
                official=item.official,
                role=item.role,
                sent_at=item.sent_at,
                message_id=item.id,
            ),
            commune=item.commune,
        )


def give_up(tx: Tx, item: Message, reason: str, now: datetime) -> None:
    """The message failed for good on its channel: recorded with the reason, the next channel queued."""
    item.fail(reason)
    follow = give_up_fallback(tx, item, now)
    log.warning(
        "message failed",
        extra={"fields": {"message": item.id, "reason": reason, "fallback": follow.channel if follow else None}},
    )
    tx.emit(
        MessageFailed(
            dossier_code=item.subject,
            message_id=item.id,
            channel=item.channel if item.channel != "webhook" else "email",  # type: ignore[arg-type]
            template=item.template,
            reason=reason,
            attempts=max(item.attempts, 1),
            fallback=follow.channel if follow else None,  # type: ignore[arg-type]
            failed_at=now,
        ),
        commune=item.commune,
    )


def give_up_fallback(tx: Tx, item: Message, now: datetime) -> Message | None:
    """Queue the milestone on the recipient's next channel, if they have one."""
    follow = item.next_channel(now)
    if follow is not None:
        store.put_message(tx, follow)
    return follow


def summary(item: Message) -> dict[str, Any]:
    """A message as operators see it: no addresses, no text."""
    return {
        "id": item.id,
        "channel": item.channel,
        "milestone": item.milestone,
        "audience": item.audience,
        "to": mask(item.to),
        "state": item.state,
        "attempts": item.attempts,
        "reason": item.reason,
        "next_at": item.next_at,
        "sent_at": item.sent_at,
    }
