"""Administrators' work on officials (service layer): records, roles, and the second
administrator's confirmation that the leader and administrator roles need.

A change that gives nothing, or only lesser roles, is saved at once; one that gives the
leader or administrator role waits as a `RoleChange` until a different administrator
confirms it. Each step, and each refused attempt, goes into the audit log with the
official's unit and roles before and after, filed under the units concerned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from services.runtime import Runtime, Tx, utcnow

from .administration import guard
from .context import RoutingContext
from .domain import NotFound, Official, Refused, RoleChange, administering, needs_second_administrator, standing
from .store import audit, officials, role_changes

T = TypeVar("T")


async def officials_of(runtime: Runtime[RoutingContext], who: Official, unit: str) -> list[Official]:
    """A unit's officials with their workloads: one's own unit, or a unit one administers."""
    if unit != who.unit:
        await guard(runtime, who, "list_officials", unit)
    return await officials.of_unit(runtime.documents, unit)


async def pending_changes(runtime: Runtime[RoutingContext], who: Official, unit: str) -> list[RoleChange]:
    """Role changes of `unit` waiting for a second administrator (to the unit's administrators)."""
    await guard(runtime, who, "list_role_changes", unit)
    return await role_changes.pending(runtime.documents, unit)


async def put_official(
    runtime: Runtime[RoutingContext], who: Official, official_id: str, record: dict[str, Any]
) -> Official | RoleChange:
    """Add or change an official (unit, roles, fields, areas, active), keeping the workload count:
    saved at once, or, when it gives the leader or administrator role, asked for and pending."""
    await guard(runtime, who, "put_official", record["unit"])
    existing = await officials.get(runtime.documents, official_id)
    if existing is not None and existing.unit != record["unit"]:
        await guard(runtime, who, "put_official", existing.unit)  # moving them out needs their old unit's admin too
    units = [record["unit"], *([existing.unit] if existing else [])]

    async def work(tx: Tx) -> Official | RoleChange:
        current = await officials.load(tx, official_id)
        official = Official.model_validate({**record, "_id": official_id, "open": current.open if current else 0})
        if needs_second_administrator(who, current, official):
            change = RoleChange.ask(role_changes.new_id(), who, current, official, utcnow())
            role_changes.add(tx, change)
            audit.add(tx, _entry(who, "ask_role_change", "allowed", change.official, current, official, change))
            return change
        officials.save(tx, official)
        officials.announce(tx, official, runtime.context.personal)
        audit.add(tx, _entry(who, "put_official", "allowed", official_id, current, official))
        return official

    saved = await _audited(runtime, who, "put_official", official_id, units, work)
    runtime.context.rosters.forget()  # this replica assigns to them at once; the others within seconds
    return saved


async def confirm(runtime: Runtime[RoutingContext], who: Official, change_id: str) -> Official:
    """A second administrator of the units concerned confirms a pending role change: it takes effect."""
    concerned: list[str] = []  # the change's units, once read: a refusal is filed under them

    async def work(tx: Tx) -> Official:
        change = await _pending(runtime, tx, who, change_id, concerned)
        current = await officials.load(tx, change.official)
        official = change.confirm(who, current, utcnow())
        officials.save(tx, official)
        officials.announce(tx, official, runtime.context.personal)
        role_changes.save(tx, change)
        audit.add(tx, _entry(who, "confirm_role_change", "allowed", change.official, current, official, change))
        return official

    official = await _audited(runtime, who, "confirm_role_change", change_id, concerned, work)
    runtime.context.rosters.forget()
    return official


async def cancel(runtime: Runtime[RoutingContext], who: Official, change_id: str) -> RoleChange:
    """An administrator of the units concerned drops a pending role change; nothing else changes."""
    concerned: list[str] = []

    async def work(tx: Tx) -> RoleChange:
        change = await _pending(runtime, tx, who, change_id, concerned)
        change.cancel(who, utcnow())
        role_changes.save(tx, change)
        audit.add(
            tx, _entry(who, "cancel_role_change", "allowed", change.official, change.before, change.after, change)
        )
        return change

    return await _audited(runtime, who, "cancel_role_change", change_id, concerned, work)


async def _pending(
    runtime: Runtime[RoutingContext], tx: Tx, who: Official, change_id: str, concerned: list[str]
) -> RoleChange:
    """The role change, if `who` administers every unit it concerns (added to `concerned`)."""
    change = await role_changes.load(tx, change_id)
    if change is None:
        raise NotFound(f"no role change {change_id!r}")
    concerned.extend(change.units)
    for unit in change.units:
        administering(who, unit, runtime.context.units.province.code)
    return change


async def _audited(
    runtime: Runtime[RoutingContext],
    who: Official,
    action: str,
    subject: str,
    units: Iterable[str],
    work: Callable[[Tx], Awaitable[T]],
) -> T:
    """Run `work` in a transaction; a refusal is audited on its own, filed under `units`."""
    try:
        return await runtime.transact(work)
    except Refused as refused:
        line = audit.entry(who, action, None, refused.outcome, f"{refused} ({subject})", filed_under=units)
        await audit.record(runtime.documents, line)
        raise


def _entry(
    who: Official,
    action: str,
    outcome: str,
    official_id: str,
    before: Official | None,
    after: Official,
    change: RoleChange | None = None,
) -> audit.Entry:
    """An audit line of a change to an official: their unit, roles and activity before and after,
    and for a role change who asked for it and who confirmed (or cancelled) it."""
    extra: dict[str, Any] = {"subject": official_id}
    if change is not None:
        extra["role_change"] = {
            "id": change.id,
            "status": change.status,
            "requested_by": change.requested_by,
            "decided_by": change.decided_by,
        }
    detail = f"{official_id} in {after.unit}: roles {', '.join(after.roles)}"
    units = [after.unit, *([before.unit] if before else [])]
    return audit.entry(
        who, action, None, outcome, detail, standing(before), standing(after), filed_under=units, extra=extra
    )
