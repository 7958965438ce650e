"""The citizen's payment page (trang thanh toán), opened by the pay link on the receipt, the
tracking page and the notification (`?token=`, the dossier's pay token): the fee's lines, the
deadline, the gateways to pay at, the bank-transfer QR (VietQR), and once paid the electronic
receipt (biên lai điện tử). Coming back here from a gateway proves nothing: only the gateway's
notification (or our query) confirms a payment, and the page shows what payment knows."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.forms import when
from services.runtime.receipts import pays
from services.runtime.web import answers

from .. import domain, receipt, store, vietqr
from ..context import Payments, PaymentsDep
from ..gateways import GatewayRefused, GatewayUnavailable, Order

router = APIRouter(tags=["payment page"])
PayToken = Annotated[str, Query(description="The pay token of the dossier's pay link.")]
REUSE_ORDER = timedelta(minutes=10)  # a citizen clicking twice gets the same order back
STATE_VI = {
    domain.PENDING: "Chờ thanh toán",
    domain.PAID: "Đã thanh toán",
    domain.EXPIRED: "Đã hết hạn thanh toán trực tuyến",
    domain.CANCELLED: "Đã hủy yêu cầu thanh toán",
    domain.NOT_REQUIRED: "Không phải nộp phí, lệ phí",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}"
    "td.amount,th.amount{text-align:right}a.button{display:inline-block;margin:.3rem 0;padding:.6rem 1rem;"
    "background:#b00;color:#fff;border-radius:.3rem;text-decoration:none}.qr svg{max-width:100%;height:auto}"
)


def money(amount: int) -> str:
    return receipt.money(amount) + " ₫"


async def opened(runtime: Runtime[Payments], dossier_code: str, token: str) -> domain.Payment:
    """The payment, for the holder of its pay token only (anyone else: not found, so codes cannot be enumerated)."""
    payments = runtime.context
    payment = await store.find(runtime, dossier_code)
    if (
        not pays(payments.settings.receipt_key(), dossier_code, token)
        or payment is None
        or payment.requested_at is None
    ):
        raise HTTPException(404, "no payment with this dossier code and pay token")
    return payment


# HTML when found, the JSON error answer when not (`response_class=HTMLResponse` would document that as HTML)
PAGE = {200: {"description": "The payment page.", "content": {"text/html": {"schema": {"type": "string"}}}}}


@router.get("/pay/{dossier_code}", response_class=Response, responses=PAGE | answers(404))
async def payment_page(
    dossier_code: str, runtime: RuntimeDep, payments: PaymentsDep, token: PayToken = ""
) -> HTMLResponse:
    """The payment page (Vietnamese). Right after receipt the fee may not have reached payment yet:
    the page then says so and reloads itself."""
    if pays(payments.settings.receipt_key(), dossier_code, token):
        known = await store.find(runtime, dossier_code)
        if known is None or known.requested_at is None:
            return HTMLResponse(preparing(dossier_code))
    payment = await opened(runtime, dossier_code, token)
    return HTMLResponse(page(payments, payment, token))


@router.get("/pay/{dossier_code}/start", responses=answers(404, 409, 410, 429, 502, 503))
async def start(
    dossier_code: str, gateway: str, runtime: RuntimeDep, payments: PaymentsDep, token: PayToken = ""
) -> RedirectResponse:
    """Go and pay at `gateway`: 303 to its page (the first gateway's order is opened already; another
    gets an order of its own, the same one again for ten minutes)."""
    payment = await opened(runtime, dossier_code, token)
    chosen = payments.gateways.get(gateway)
    if chosen is None:
        raise HTTPException(404, f"no gateway {gateway!r}; choose one of {', '.join(payments.gateways)}")
    now = utcnow()
    if problem := payment.may_start(now):
        raise HTTPException(problem.status, problem.detail)
    recent = [o for o in payment.orders if o.gateway == gateway and o.state == "open" and o.page_url]
    if recent and (gateway == payments.gateway_name or now - (recent[-1].opened_at or now) < REUSE_ORDER):
        return RedirectResponse(str(recent[-1].page_url), 303)
    if gateway == payments.gateway_name:
        raise HTTPException(503, "the payment is being opened at the gateway; try again in a moment")
    assert payment.expires_at is not None
    order = Order(
        payment.next_reference(),
        payment.amount_vnd,
        f"Thanh toan phi, le phi ho so {dossier_code}",
        payment.expires_at,
        payments.pay_url(dossier_code),
    )
    try:
        page_url = await chosen.open(order)
    except GatewayUnavailable:
        raise HTTPException(503, "the gateway cannot be reached; try again later or choose another") from None
    except GatewayRefused as refusal:
        raise HTTPException(502, f"the gateway refused the payment: {refusal}") from None
    query_after = timedelta(seconds=payments.settings.query_after_s)

    async def record(tx: Tx) -> str | None:
        current = await store.load(tx, dossier_code)
        if current is None or current.may_start(utcnow()) or current.next_reference() != order.reference:
            return None
        current.new_order(gateway, page_url, utcnow(), query_after)
        store.save(tx, current)
        return page_url

    if (url := await runtime.transact(record)) is None:
        raise HTTPException(409, "the payment changed meanwhile; open the payment page again")
    payments.opened.labels(runtime.name).inc()
    return RedirectResponse(url, 303)


@router.get("/pay/{dossier_code}/receipt.pdf", response_class=Response, responses=answers(404, 409))
async def receipt_pdf(dossier_code: str, runtime: RuntimeDep, payments: PaymentsDep, token: PayToken = "") -> Response:
    """The electronic receipt (biên lai điện tử) of the fee paid, as a PDF."""
    payment = await opened(runtime, dossier_code, token)
    capture = payment.captured
    if capture is None or capture.receipt_number is None:
        raise HTTPException(409, "the fee is not paid yet: no receipt")
    series, number = capture.receipt_number.rsplit("-", 1)
    settings = payments.settings
    gateway = payments.gateways.get(capture.gateway)
    content = receipt.Receipt(
        unit_name=payments.unit_name(payment.commune),
        series=series,
        number=int(number),
        dossier_code=payment.dossier_code,
        procedure_name=payment.procedure_name,
        lines=[
            (line.kind, line.name, line.unit_vnd, line.quantity, line.unit, line.amount_vnd) for line in payment.lines
        ]
        or [("charge", "Phí, lệ phí", payment.amount_vnd, 1, None, payment.amount_vnd)],
        amount_vnd=payment.amount_vnd,
        method=capture.method,
        gateway_name=gateway.label if gateway else None,
        transaction_id=capture.transaction_id,
        paid_at=capture.paid_at,
        issued_at=capture.paid_at,
        verify_url=payments.pay_url(dossier_code),
    )
    pdf = await runtime.workers.run(receipt.render, content, settings.pdf_font, settings.pdf_bold_font)
    name = f"bien-lai-{capture.receipt_number}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


def preparing(dossier_code: str) -> str:
    return shell(
        dossier_code,
        f"<h1>Thanh toán phí, lệ phí</h1><p>Hồ sơ <b>{html.escape(dossier_code)}</b>: đang chuẩn bị yêu cầu "
        "thanh toán. Trang sẽ tự tải lại sau giây lát.</p>",
        '<meta http-equiv="refresh" content="3">',
    )


def shell(dossier_code: str, body: str, head: str = "") -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}'
        f"<title>Thanh toán hồ sơ {html.escape(dossier_code)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def page(payments: Payments, payment: domain.Payment, token: str) -> str:
    """The page's HTML: escaped everywhere, no script."""
    e = html.escape
    code = payment.dossier_code
    rows = "".join(
        f"<tr><td>{'Phí' if line.kind == 'fee' else 'Lệ phí'}</td><td>{e(line.name)}"
        + (f" ({line.quantity} {e(line.unit or '')} × {money(line.unit_vnd)})" if line.quantity > 1 else "")
        + f'</td><td class="amount">{money(line.amount_vnd)}</td></tr>'
        for line in payment.lines
    )
    parts = [
        f"<h1>Thanh toán phí, lệ phí</h1><p>Hồ sơ <b>{e(code)}</b>: {e(payment.procedure_name)}</p>",
        f"<p>Trạng thái: <b>{STATE_VI[payment.state]}</b></p>",
    ]
    if rows:
        parts.append(
            '<table><thead><tr><th>Loại</th><th>Nội dung</th><th class="amount">Số tiền</th></tr></thead>'
            f'<tbody>{rows}</tbody><tfoot><tr><th colspan="2">Tổng cộng</th>'
            f'<th class="amount">{money(payment.amount_vnd)}</th></tr></tfoot></table>'
        )
    now = utcnow()
    if payment.state == domain.PENDING and payment.expires_at and now < payment.expires_at:
        links = "".join(
            f'<p><a class="button" href="/pay/{e(code)}/start?gateway={e(name)}&amp;token={e(token)}">'
            f"Thanh toán qua {e(gateway.label)}</a></p>"
            for name, gateway in payments.gateways.items()
        )
        settings = payments.settings
        assert settings.transfer_bank_bin and settings.transfer_account
        transfer = vietqr.payload(settings.transfer_bank_bin, settings.transfer_account, payment.amount_vnd, code)
        parts += [
            f"<p>Hạn thanh toán trực tuyến: <b>{when(payment.expires_at)}</b></p>",
            f"<h2>Chọn cách thanh toán</h2>{links}",
            "<h2>Hoặc chuyển khoản bằng mã QR</h2>",
            f'<div class="qr">{vietqr.svg(transfer)}</div>',
            f"<p>Tài khoản: {e(settings.transfer_account)} ({e(settings.transfer_account_name)}), "
            f"số tiền {money(payment.amount_vnd)}, nội dung chuyển khoản <b>{e(code)}</b>.</p>",
            f'<p><small>Mã VietQR: <code id="vietqr">{e(transfer)}</code></small></p>',
        ]
    elif payment.state == domain.EXPIRED:
        parts.append("<p>Đã quá hạn thanh toán trực tuyến. Ông/bà có thể nộp phí, lệ phí tại bộ phận một cửa.</p>")
    if payment.captured is not None and payment.captured.receipt_number:
        parts.append(
            f"<p>Biên lai số <b>{e(payment.captured.receipt_number)}</b>, lúc {when(payment.captured.paid_at)}: "
            f'<a href="/pay/{e(code)}/receipt.pdf?token={e(token)}">tải biên lai điện tử (PDF)</a></p>'
        )
    refunds = [r for r in payment.refunds if r.state == "done"]
    for refund in refunds:
        parts.append(f"<p>Đã hoàn trả {money(refund.amount_vnd)} ({e(refund.reason)}).</p>")
    return shell(code, "".join(parts))
