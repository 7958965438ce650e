"""The officers' HTTP API: work queue, claim, forward, supplement request, refusal,
approval, return of the result, apology, reassignment; workflows and officials.

Every request carries an official's OIDC token (`Authorization: Bearer ...`). The token
says who the official is; routing's own records say their unit and roles. An official
sees and acts only on dossiers held by (or routed through) their own unit; every action,
allowed or refused, goes into the append-only audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from motcua_contracts import DossierApologised, DossierSupplementRequested
from pydantic import BaseModel, Field, ValidationError

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.auth import AuthError, TokenVerifier, bearer_token
from services.runtime.clock import local

from . import domain, forms, store, workflow
from .settings import settings
from .workflow import current_step, reference

router = APIRouter(tags=["officers"])
verifier: TokenVerifier | None = None


async def start(runtime: Runtime) -> None:
    global verifier
    verifier = TokenVerifier(settings.oidc_issuer, settings.oidc_audience)


class Refused(Exception):
    """An attempt outside the rules (403) or against the dossier's state (409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def forbid(message: str) -> Refused:
    return Refused(403, message)


def conflict(message: str) -> Refused:
    return Refused(409, message)


# --- who is asking ---------------------------------------------------------------------


async def current_official(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    token = bearer_token(request)
    assert verifier is not None
    try:
        claims = await verifier.verify(token)
    except AuthError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    official = await store.official(runtime, claims["sub"])
    if official is None or not official.get("active", True):
        who = {"_id": claims["sub"], "roles": [], "unit": None}
        await store.audit_now(
            runtime,
            store.audit_entry(who, f"{request.method} {request.url.path}", None, "forbidden", "not an active official"),
        )
        raise HTTPException(403, f"{claims['sub']!r} is not an active official of this province")
    return official


Official = Annotated[dict[str, Any], Depends(current_official)]


def signed(who: dict[str, Any]) -> str:
    """How an official signs forms and events: their name."""
    return who.get("name") or who["_id"]


def has_role(who: dict[str, Any], *roles: str) -> bool:
    return any(role in who.get("roles", ()) for role in roles)


# --- performing an action -----------------------------------------------------------------

Change = Callable[[Tx, dict[str, Any], datetime], Awaitable[Any]]


async def perform(runtime: Runtime, who: dict[str, Any], code: str, action: str, change: Change) -> Any:
    """Run `change` on the dossier in one transaction with its audit entry; a refusal
    (403/409) writes nothing but its own audit entry."""
    seen: dict[str, Any] = {}

    async def work(tx: Tx) -> Any:
        dossier = await tx.load(store.DOSSIERS, code)
        if dossier is None or not dossier.get("flow"):
            raise HTTPException(404, f"no dossier {code!r} in processing")
        seen["before"] = store.state_of(dossier)
        seen["dossier"] = dict(dossier)
        if dossier.get("holder_unit") != who.get("unit"):
            raise forbid(f"dossier {code} is held by unit {dossier.get('holder_unit')}, not yours")
        now = utcnow()
        result = await change(tx, dossier, now)
        store.put(tx, dossier)
        entry = store.audit_entry(who, action, seen["dossier"], "allowed", to_state=store.state_of(dossier))
        store.audit_in(tx, entry)
        return result

    try:
        return await runtime.transact(work)
    except Refused as refused:
        outcome = {403: "forbidden", 409: "conflict"}.get(refused.status, "invalid")
        await store.audit_now(runtime, store.audit_entry(who, action, seen.get("dossier"), outcome, str(refused)))
        raise HTTPException(refused.status, str(refused)) from None


def holding(who: dict[str, Any], dossier: dict[str, Any], *actions: str) -> dict[str, Any]:
    """The current step, if it ends with one of `actions` and `who` holds it."""
    step = current_step(dossier)
    if step is None or dossier["status"] in domain.CLOSED:
        raise conflict(f"dossier {dossier['_id']} is {dossier['status']}")
    if step["action"] not in actions:
        raise conflict(f"dossier {dossier['_id']} is at step {step['id']!r}, which ends with {step['action']}")
    if dossier.get("holder") is None:
        raise conflict(f"step {step['id']!r} of dossier {dossier['_id']} is unassigned: claim it first")
    if dossier["holder"] != who["_id"]:
        raise forbid(f"step {step['id']!r} of dossier {dossier['_id']} is held by {dossier['holder']}")
    return step


async def take_from_pool(tx: Tx, who: dict[str, Any], dossier: dict[str, Any], action: str, now: datetime) -> None:
    """An unassigned step ending with `action` is taken by the official doing it (a claim)."""
    step = current_step(dossier)
    if step is not None and step["action"] == action and dossier.get("holder") is None:
        await workflow.assign(tx, dossier, who["_id"], who["_id"], now)


def not_waiting(dossier: dict[str, Any]) -> None:
    if dossier.get("waiting_for_supplement"):
        raise conflict(f"dossier {dossier['_id']} is waiting for a supplement from the citizen")


# --- reading ------------------------------------------------------------------------------


def view(dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What an official sees of a dossier: status, holder, step, deadlines, what it waits for."""
    step = current_step(dossier) or {}
    deadline = domain.deadline(dossier) if "due_at" in dossier else None
    return {
        "dossier_code": dossier["_id"],
        "procedure_code": dossier.get("procedure_code"),
        "procedure_name": dossier.get("procedure_name"),
        "field": dossier.get("field"),
        "area": dossier.get("area"),
        "status": dossier.get("status"),
        "receiving_unit": dossier.get("commune"),
        "competent_unit": (dossier.get("units") or {}).get("competent"),
        "route": dossier.get("route", []),
        "holder_unit": dossier.get("holder_unit"),
        "holder": dossier.get("holder"),
        "step": step.get("id"),
        "step_name": step.get("name"),
        "step_role": step.get("role"),
        "step_due_at": _local(dossier.get("step_due_at")),
        "workflow": {k: v for k, v in (dossier.get("flow") or {}).items() if k != "steps"},
        "received_at": _local(dossier.get("received_at")),
        "due_at": _local(dossier.get("due_at")),
        "new_due_at": _local((dossier.get("apology") or {}).get("new_due_at")),
        "overdue": bool(deadline and dossier.get("status") not in domain.CLOSED and deadline < now),
        "waiting_for": domain.waiting_for(dossier) if dossier.get("status") not in domain.CLOSED else [],
        "outcome": dossier.get("outcome"),
    }


def _local(moment: datetime | None) -> str | None:
    return local(moment).isoformat() if moment else None


@router.get("/me")
async def me(who: Official) -> dict[str, Any]:
    return {"id": who["_id"], "name": who.get("name"), "unit": who["unit"], "roles": who["roles"]}


@router.get("/queue")
async def work_queue(
    who: Official,
    runtime: RuntimeDep,
    status: str | None = None,
    due: Annotated[str | None, Query(pattern="^(soon|overdue)$")] = None,
    holder: Annotated[str | None, Query(description="`me`, `none` (unassigned) or an official id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Dossiers held by the official's unit, most urgent first."""
    now = utcnow()
    query: dict[str, Any] = {"holder_unit": who["unit"], "status": {"$nin": list(domain.CLOSED)}}
    if status:
        query["status"] = status
    if due == "overdue":
        query["deadline_at"] = {"$lt": now}
    elif due == "soon":
        query["deadline_at"] = {"$gte": now, "$lte": reference.calendar.add_working_hours(now, 8)}
    if holder is not None:
        query["holder"] = {"me": who["_id"], "none": None}.get(holder, holder)
    rows = await runtime.store.db[store.DOSSIERS].find(query).sort("deadline_at", 1).limit(limit).to_list(None)
    return {"unit": who["unit"], "count": len(rows), "dossiers": [view(row, now) for row in rows]}


@router.get("/dossiers/{code}")
async def get_dossier(code: str, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    dossier = await runtime.store.db[store.DOSSIERS].find_one({"_id": code})
    if dossier is None or not dossier.get("received"):
        raise HTTPException(404, f"no dossier {code!r}")
    if who["unit"] not in dossier.get("route", [dossier.get("holder_unit")]):
        await store.audit_now(
            runtime, store.audit_entry(who, "view", dossier, "forbidden", "not routed through the unit")
        )
        raise HTTPException(403, f"dossier {code} is not routed through your unit")
    return view(dossier, utcnow())


# --- acting -----------------------------------------------------------------------------------


class Forward(BaseModel):
    to: str | None = Field(default=None, description="Official to hand the next step to (else by the step's rule).")
    note: str | None = Field(default=None, max_length=1000)


class SupplementRequest(BaseModel):
    documents: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=3, max_length=1000)


class Reason(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)


class Approval(BaseModel):
    result_title: str | None = Field(default=None, max_length=300)


class Apology(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)
    new_due_at: datetime = Field(description="The new return date and time (with its offset).")


class Reassignment(BaseModel):
    to: str = Field(min_length=1, max_length=64)


@router.post("/dossiers/{code}/claim")
async def claim(code: str, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Take an unassigned step from the unit's queue; of two officials claiming at once, one wins."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        step = current_step(dossier)
        if step is None or dossier["status"] in domain.CLOSED or step["assign"] == "none":
            raise conflict(f"dossier {code} has no step to claim")
        if not has_role(who, step["role"]):
            raise forbid(f"step {step['id']!r} is for the {step['role']} role")
        if dossier.get("holder") is not None:
            raise conflict(f"step {step['id']!r} of dossier {code} is already held by {dossier['holder']}")
        await workflow.assign(tx, dossier, who["_id"], who["_id"], now)
        return view(dossier, now)

    return await perform(runtime, who, code, "claim", change)


async def official_for(tx: Tx, official_id: str, unit: str, role: str) -> None:
    target = await tx.load(store.OFFICIALS, official_id)
    if target is None or not target.get("active", True) or target["unit"] != unit or role not in target["roles"]:
        raise Refused(422, f"{official_id!r} is not an active {role} of unit {unit}")


@router.post("/dossiers/{code}/forward")
async def forward(code: str, who: Official, runtime: RuntimeDep, body: Forward | None = None) -> dict[str, Any]:
    """Finish the current step and send the dossier to the next one (maybe another unit)."""
    body = body or Forward()

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        holding(who, dossier, "forward")
        not_waiting(dossier)
        following = dossier["flow"]["steps"][dossier["step"] + 1]
        if body.to is not None:
            await official_for(tx, body.to, dossier["units"][following["unit"]], following["role"])
        await workflow.forward(tx, dossier, now, to=body.to)
        return view(dossier, now)

    return await perform(runtime, who, code, "forward", change)


@router.post("/dossiers/{code}/supplement-request", status_code=201)
async def request_supplement(code: str, body: SupplementRequest, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Send the dossier back for documents; the clock pauses. The form is at `form`."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        holding(who, dossier, "forward", "approve")
        not_waiting(dossier)
        dossier["waiting_for_supplement"] = True
        dossier["supplement"] = {
            "documents": body.documents,
            "reason": body.reason,
            "by": who["_id"],
            "by_name": who.get("name"),
            "at": now,
        }
        workflow.settle(dossier)
        tx.emit(
            DossierSupplementRequested(
                dossier_code=code,
                documents=body.documents,
                reason=body.reason,
                requested_by=signed(who),
                requested_at=now,
                unit=dossier["holder_unit"],
            ),
            commune=dossier["commune"],
        )
        return view(dossier, now) | {"form": f"/dossiers/{code}/forms/supplement-request.pdf"}

    return await perform(runtime, who, code, "request_supplement", change)


@router.post("/dossiers/{code}/refusal")
async def refuse(code: str, body: Reason, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Refuse to resolve the dossier, with the reason; the refusal form is at `form`."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        holding(who, dossier, "forward", "approve")
        if not has_role(who, domain.SPECIALIST, domain.LEADER):
            raise forbid("only a specialist or a leader refuses a dossier")
        await workflow.refuse(tx, dossier, body.reason, signed(who), now)
        return view(dossier, now) | {"form": f"/dossiers/{code}/forms/refusal.pdf"}

    return await perform(runtime, who, code, "refuse", change)


@router.post("/dossiers/{code}/approval")
async def approve(code: str, who: Official, runtime: RuntimeDep, body: Approval | None = None) -> dict[str, Any]:
    """A leader approves the result; it goes to signing."""
    body = body or Approval()

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not has_role(who, domain.LEADER):
            raise forbid("only a leader approves")
        await take_from_pool(tx, who, dossier, "approve", now)
        holding(who, dossier, "approve")
        if waiting := [w for w in domain.waiting_for(dossier) if w != "signature"]:
            raise conflict(f"dossier {code} cannot be approved yet: waiting for {', '.join(waiting)}")
        await workflow.approve(tx, dossier, signed(who), now, body.result_title)
        return view(dossier, now)

    return await perform(runtime, who, code, "approve", change)


@router.post("/dossiers/{code}/return")
async def return_result(code: str, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Hand the signed result to the citizen: the dossier is done (early / on time / late)."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not has_role(who, domain.RECEIVING):
            raise forbid("only a receiving officer returns results")
        await take_from_pool(tx, who, dossier, "return", now)
        holding(who, dossier, "return")
        await workflow.complete(tx, dossier, now)
        return view(dossier, now)

    return await perform(runtime, who, code, "return", change)


@router.post("/dossiers/{code}/apology", status_code=201)
async def apologise(code: str, body: Apology, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Apologise with the reason and a new return date: once per dossier, before its due date."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not has_role(who, domain.SPECIALIST, domain.LEADER):
            raise forbid("only a specialist or a leader apologises for a late dossier")
        if dossier["status"] in domain.CLOSED:
            raise conflict(f"dossier {code} is {dossier['status']}")
        if dossier.get("apology"):
            raise conflict(f"dossier {code} already has an apology with a new date: it is allowed once")
        if now >= dossier["due_at"]:
            raise conflict(f"dossier {code} is already past its due date; the apology had to come before it")
        if body.new_due_at.tzinfo is None or body.new_due_at <= dossier["due_at"]:
            raise Refused(422, "the new date must be later than the due date, with its UTC offset")
        dossier["apology"] = {
            "reason": body.reason,
            "new_due_at": body.new_due_at,
            "by": signed(who),
            "at": now,
            "unit": who["unit"],
        }
        workflow.settle(dossier)
        tx.emit(
            DossierApologised(
                dossier_code=code,
                reason=body.reason,
                due_at=dossier["due_at"],
                new_due_at=body.new_due_at,
                apologised_by=dossier["apology"]["by"],
                unit=who["unit"],
                apologised_at=now,
            ),
            commune=dossier["commune"],
        )
        return view(dossier, now) | {"form": f"/dossiers/{code}/forms/apology.pdf"}

    return await perform(runtime, who, code, "apologise", change)


@router.post("/dossiers/{code}/reassignment")
async def reassign(code: str, body: Reassignment, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """A leader moves the current step to another official of the unit."""

    async def change(tx: Tx, dossier: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not has_role(who, domain.LEADER):
            raise forbid("only a leader reassigns dossiers")
        step = current_step(dossier)
        if step is None or dossier["status"] in domain.CLOSED or step["assign"] == "none":
            raise conflict(f"dossier {code} has no step to reassign")
        await official_for(tx, body.to, dossier["holder_unit"], step["role"])
        await workflow.assign(tx, dossier, body.to, who["_id"], now)
        return view(dossier, now)

    return await perform(runtime, who, code, "reassign", change)


# --- forms ------------------------------------------------------------------------------------


@router.get("/dossiers/{code}/forms/{kind}.pdf", response_class=Response)
async def form(code: str, kind: str, who: Official, runtime: RuntimeDep) -> Response:
    dossier = await runtime.store.db[store.DOSSIERS].find_one({"_id": code})
    if dossier is None or who["unit"] not in dossier.get("route", []):
        raise HTTPException(404, f"no dossier {code!r} routed through your unit")
    common = {"dossier_code": code, "applicant_name": dossier.get("applicant_name", "")}
    if kind == "supplement-request" and (request := dossier.get("supplement")):
        pdf = forms.supplement_request(
            unit_name=reference.unit_name(dossier["holder_unit"]),
            documents=request["documents"],
            reason=request["reason"],
            officer=request.get("by_name") or request["by"],
            requested_at=request["at"],
            **common,
        )
    elif kind == "refusal" and (refusal := dossier.get("refusal")):
        pdf = forms.refusal(
            unit_name=reference.unit_name(refusal["unit"]),
            procedure_name=dossier["procedure_name"],
            reason=refusal["reason"],
            officer=refusal["by"],
            at=refusal["at"],
            **common,
        )
    elif kind == "apology" and (apology := dossier.get("apology")):
        pdf = forms.apology(
            unit_name=reference.unit_name(apology["unit"]),
            procedure_name=dossier["procedure_name"],
            reason=apology["reason"],
            due_at=dossier["due_at"],
            new_due_at=apology["new_due_at"],
            officer=apology["by"],
            at=apology["at"],
            **common,
        )
    else:
        raise HTTPException(404, f"dossier {code} has no {kind} form")
    return Response(pdf, media_type="application/pdf")


# --- audit ------------------------------------------------------------------------------------


@router.get("/audit")
async def audit(
    who: Official,
    runtime: RuntimeDep,
    dossier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The audit trail of a dossier routed through the unit, or (leaders, administrators) of the unit."""
    if dossier is not None:
        found = await runtime.store.db[store.DOSSIERS].find_one({"_id": dossier}, {"route": 1})
        if found is None or who["unit"] not in found.get("route", []):
            raise HTTPException(404, f"no dossier {dossier!r} routed through your unit")
        query: dict[str, Any] = {"dossier": dossier}
    elif has_role(who, domain.LEADER, domain.ADMIN):
        query = {"unit": who["unit"]}
    else:
        raise HTTPException(403, "only leaders and administrators read their unit's audit trail")
    entries = await store.audit_trail(runtime, query, limit)
    return {
        "entries": [
            {**{k: v for k, v in e.items() if k != "_id"}, "id": e["_id"], "at": _local(e["at"])} for e in entries
        ]
    }


# --- workflows and officials (administrators) ----------------------------------------------


class WorkflowIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    steps: list[dict[str, Any]]


def administering(who: dict[str, Any], unit: str) -> None:
    """Administrators manage their own unit; the province's administrators manage every unit."""
    assert reference.units is not None
    if not has_role(who, domain.ADMIN) or who["unit"] not in (unit, reference.units.province.code):
        raise forbid(f"only an administrator of unit {unit} manages its workflows and officials")


async def guarded(runtime: Runtime, who: dict[str, Any], action: str, unit: str) -> None:
    try:
        administering(who, unit)
    except Refused as refused:
        await store.audit_now(runtime, store.audit_entry(who, action, None, "forbidden", f"{refused} (unit {unit})"))
        raise HTTPException(403, str(refused)) from None


@router.get("/workflows/{template}")
async def workflow_versions(
    template: str, who: Official, runtime: RuntimeDep, unit: str | None = None
) -> dict[str, Any]:
    """Every version of a template: province-wide and the unit's overrides."""
    rows = await store.workflow_versions(runtime, template, unit or who["unit"])
    if not rows:
        raise HTTPException(404, f"no workflow template {template!r}")
    return {"template": template, "versions": [{k: v for k, v in row.items() if k != "_id"} for row in rows]}


@router.put("/workflows/{template}/units/{unit}", status_code=201)
async def override_workflow(
    template: str, unit: str, body: WorkflowIn, who: Official, runtime: RuntimeDep
) -> dict[str, Any]:
    """A unit's own version of a template: new dossiers use it, dossiers in flight keep theirs."""
    await guarded(runtime, who, "override_workflow", unit)
    if await store.latest_workflow(runtime.store.db, template, store.ANY_UNIT) is None:
        raise HTTPException(404, f"no workflow template {template!r}")
    try:
        checked = domain.Workflow(steps=body.steps)
    except ValidationError as error:
        raise HTTPException(
            422,
            {
                "message": "the workflow breaks the rules",
                "errors": error.errors(include_url=False, include_context=False),
            },
        ) from None
    document = await store.save_workflow_version(
        runtime, template, unit, body.name, [s.model_dump() for s in checked.steps], who["_id"]
    )
    reference.workflows.forget()
    entry = store.audit_entry(
        who, "override_workflow", None, "allowed", f"{template} v{document['version']} for {unit}"
    )
    await store.audit_now(runtime, entry)
    return {k: v for k, v in document.items() if k != "_id"}


class OfficialIn(BaseModel):
    name: str = Field(min_length=2, max_length=120)
    unit: str = Field(min_length=2, max_length=40)
    roles: list[domain.Role] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    active: bool = True


@router.get("/officials")
async def officials(who: Official, runtime: RuntimeDep, unit: str | None = None) -> dict[str, Any]:
    """A unit's officials with their current workload (open dossiers held)."""
    rows = await runtime.store.db[store.OFFICIALS].find({"unit": unit or who["unit"]}).sort("_id").to_list(None)
    if (unit or who["unit"]) != who["unit"]:
        await guarded(runtime, who, "list_officials", unit or who["unit"])
    return {"officials": [{"id": r.pop("_id"), **r} for r in rows]}


@router.put("/officials/{official_id}")
async def put_official(official_id: str, body: OfficialIn, who: Official, runtime: RuntimeDep) -> dict[str, Any]:
    """Add or change an official (roles, fields, areas, active); the workload count is kept."""
    await guarded(runtime, who, "put_official", body.unit)
    existing = await store.official(runtime, official_id)
    if existing is not None and existing["unit"] != body.unit:
        await guarded(runtime, who, "put_official", existing["unit"])
    record = body.model_dump() | {"open": (existing or {}).get("open", 0)}
    await runtime.store.db[store.OFFICIALS].replace_one({"_id": official_id}, record, upsert=True)
    await store.audit_now(
        runtime, store.audit_entry(who, "put_official", None, "allowed", f"{official_id} in {body.unit}")
    )
    return {"id": official_id, **record}
