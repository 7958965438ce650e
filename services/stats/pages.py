"""The live dashboard (bảng điều khiển) of the province's one-stop figures: one page, its script and
its style, read once from `web/`. The page asks the stats API and follows `/stats/live`; it has no
inline script or style, so the edge's Content-Security-Policy (`'self'` only) lets it run as is."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["dashboard"])
WEB = Path(__file__).parent / "web"
PAGE = (WEB / "dashboard.html").read_text(encoding="utf-8")
# The page's own files and their media types: nothing else is served from the folder.
STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
FILES = {name: (WEB / name).read_bytes() for name in STATIC}


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> str:
    """The dashboard page (Vietnamese)."""
    return PAGE


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    """The page's script and style (the edge's `no-store` applies: a new version shows on reload)."""
    if name not in STATIC:
        raise HTTPException(404, f"no file {name!r}")
    return Response(FILES[name], media_type=STATIC[name])
