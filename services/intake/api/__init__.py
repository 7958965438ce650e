"""Intake's HTTP edge, one module per audience: the catalogue (anyone), submissions
(portals, counters, the post), receipts (the holder of a receipt's token), tracking and the
citizen's requests after receipt (the dossier's owner). Handlers only translate requests
and answers; the rules are in the domain modules."""

from fastapi import APIRouter

from . import dossiers, procedures, receipts, supplements, tracking

ROUTERS: tuple[APIRouter, ...] = (
    procedures.router,
    dossiers.router,
    receipts.router,
    tracking.router,
    supplements.router,
)
