"""The receipt and the receipt slip PDF, for the holder of the receipt's access token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from services.runtime import Runtime, RuntimeDep
from services.runtime.receipts import ReceiptToken, same_token
from services.runtime.web import answers

from .. import slip, store
from ..context import IntakeContext, IntakeDep
from ..received import Receipt, ReceivedDossier

router = APIRouter(tags=["receipts"], responses=answers(404))


async def receipt_of(runtime: Runtime[IntakeContext], dossier: ReceivedDossier) -> Receipt:
    """The dossier's receipt with its current appointment date (a supplement moves it) and the
    link to its payment page at payment's current address."""
    timeline = await store.find_timeline(runtime, dossier.code)
    pay_url = runtime.context.settings.pay_url(dossier.code)
    return dossier.receipt(pay_url, timeline.due_at if timeline else None)


def not_found() -> HTTPException:
    """The one answer for an unknown dossier and for a missing or wrong token: codes cannot be enumerated."""
    return HTTPException(404, "no dossier with this code and access token")


async def opened(runtime: Runtime[IntakeContext], dossier_code: str, token: str) -> ReceivedDossier:
    """The dossier, for the holder of its receipt's access token only (anyone else: not found).

    The token is compared with the one stored on the receipt, so receipts issued before tokens
    were made from the code keep working."""
    dossier = await store.find_dossier(runtime, dossier_code)
    if not same_token(dossier.access_token if dossier else "", token) or dossier is None:
        raise not_found()
    return dossier


@router.get("/dossiers/{dossier_code}/receipt")
async def get_receipt(dossier_code: str, runtime: RuntimeDep, token: ReceiptToken = "") -> Receipt:
    return await receipt_of(runtime, await opened(runtime, dossier_code, token))


@router.get("/dossiers/{dossier_code}/receipt.pdf", response_class=Response)
async def get_receipt_slip(
    dossier_code: str, runtime: RuntimeDep, intake: IntakeDep, token: ReceiptToken = ""
) -> Response:
    """The receipt-and-appointment slip as a PDF, with a QR code to the tracking page."""
    dossier = await opened(runtime, dossier_code, token)
    receipt = await receipt_of(runtime, dossier)
    received = dossier.event()
    commune = intake.units.communes.get(received.commune_code)
    content = slip.Slip(
        unit_name=f"UBND {commune.name}" if commune else received.commune_code,
        dossier_code=dossier_code,
        receipt_number=receipt.receipt_number,
        applicant_name=dossier.contact.name,
        procedure_name=receipt.procedure_name,
        components=[(c.name, c.form) for c in received.components],
        received_at=receipt.received_at,
        due_at=receipt.due_at,
        fee_vnd=receipt.fee_vnd,
        tracking_url=intake.settings.tracking_url(dossier_code),
        fee_lines=receipt.fee_lines,
        exemption=receipt.exemption,
        pay_by=receipt.pay_by,
        pay_url=receipt.pay_url,
    )
    settings = intake.settings
    pdf = await runtime.workers.run(slip.render, content, settings.pdf_font, settings.pdf_bold_font)
    headers = {"Content-Disposition": f'inline; filename="{dossier_code}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
