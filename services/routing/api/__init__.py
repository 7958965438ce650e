"""Routing's HTTP edge, by audience: officers' actions (officers.py), what they read
(views.py) and administration (admin.py). Every request carries an official's OIDC
token (identity.py); handlers only translate requests and the domain's refusals."""

from fastapi import APIRouter

from services.runtime.web import answers

from . import admin, officers, views

router = APIRouter(responses=answers(401, 403, 503))  # who is asking: identity.py
router.include_router(officers.router)
router.include_router(views.router)
router.include_router(admin.router)

__all__ = ["router"]
