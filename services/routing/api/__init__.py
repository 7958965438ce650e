"""Routing's HTTP edge, by audience: officers' actions (officers.py), what they read
(views.py) and administration (admin.py). Every request carries an official's OIDC
token (identity.py); handlers only translate requests and the domain's refusals."""

from fastapi import APIRouter

from . import admin, officers, views

router = APIRouter()
router.include_router(officers.router)
router.include_router(views.router)
router.include_router(admin.router)

__all__ = ["router"]
