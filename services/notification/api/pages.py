"""The citizen's pages: small, Vietnamese, phone-sized, without script; forms post to themselves."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from services.runtime.service import get_context

from ..context import Notifier

NotifierDep = Annotated[Notifier, Depends(get_context)]
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin-top:.8rem;font-weight:600}textarea,select,input[type=text]{width:100%;"
    "box-sizing:border-box;padding:.5rem;font-size:1rem}fieldset{border:1px solid #ccc;border-radius:.3rem}"
    "button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;background:#a50e0e;color:#fff;border:0;"
    "border-radius:.3rem}.note{color:#555}"
)
# HTML when found, the JSON error answer when not
PAGE = {200: {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def action(request: Request) -> str:
    """The form's own address (path and token), to post back to."""
    query = f"?{request.url.query}" if request.url.query else ""
    return escape(request.url.path + query)
