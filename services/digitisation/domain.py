"""Digitisation rules (số hóa): each component of a dossier gets an electronic copy, and each
copy is a document of the store with what it is, whose, where from and how long it is kept.

- An **uploaded** file is the applicant's copy (checked when uploaded).
- A **paper** component is scanned at the counter: the officer uploads the pages, the platform
  assembles them into one PDF, the officer signs it (vouching for its fidelity) and the signed
  copy is the component's document.
- A component **reused** from the owner's e-data store (kho quản lý dữ liệu điện tử) is a new
  document of this dossier pointing at the same file as the owner's earlier one.
- A signed **result** is archived under its result code in the owner's e-data store.

Once every component of a dossier has a copy, `dossier.digitised` says so with the dossier's
figures. No I/O here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from motcua_contracts import ComponentDigitised, DossierDigitised, DossierReceived
from pydantic import BaseModel, ConfigDict, Field

Source = Literal["uploaded", "scanned", "reused", "result"]
Form = Literal["electronic", "paper", "e_data_store"]
Recognition = Literal["pending", "done", "failed", "none"]
YEAR = timedelta(days=365)


def component_document_id(dossier_code: str, index: int) -> str:
    """The id of component `index` (from 1) of a dossier: `<dossier code>-TP<index>`."""
    return f"{dossier_code}-TP{index}"


def retain_until(now: datetime, years: int) -> datetime:
    """Until when a document stored `now` is kept (the archive's retention, a setting)."""
    return now + years * YEAR


class Signer(BaseModel):
    """The official who signed a scanned copy, as their certificate names them."""

    official: str
    name: str | None = None
    signed_at: datetime | None = None


class StoredDocument(BaseModel):
    """A document of the store: the file (by SHA-256) and what it is."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id")
    sha256: str
    size: int
    media_type: str
    pages: int | None = None
    source: Source
    dossier_code: str
    component: str | None = None
    kind: str | None = None
    owner: str | None = Field(default=None, description="The owner's identity hash: their e-data store.")
    unit: str | None = None
    signer: Signer | None = None
    result_code: str | None = None
    reused_from: str | None = None
    stored_at: datetime
    retain_until: datetime
    valid_until: datetime | None = None
    recognition: Recognition = "none"
    text: str | None = None
    words: list[str] = Field(default_factory=list)

    def document(self) -> dict:
        return self.model_dump(by_alias=True)

    def reusable_at(self, moment: datetime) -> bool:
        """Whether the owner may reuse it for a new dossier at `moment`."""
        return self.valid_until is None or self.valid_until > moment


class Component(BaseModel):
    """One component of a dossier and its electronic copy, once it has one."""

    index: int
    name: str
    form: Form
    kind: str | None = None
    upload_id: str | None = Field(default=None, description="The upload (electronic) or owner's document (reused).")
    document_id: str | None = None
    source: Source | None = None
    sha256: str | None = None
    pages: int | None = None
    digitised_at: datetime | None = None
    digitised_by: str | None = None
    problem: str | None = Field(default=None, description="Why a copy the applicant meant to give is missing.")

    @property
    def digitised(self) -> bool:
        return self.document_id is not None

    def reported(self) -> ComponentDigitised:
        assert self.document_id and self.sha256 and self.source and self.source != "result"
        return ComponentDigitised(
            name=self.name,
            origin=self.source,
            sha256=self.sha256,
            document_id=self.document_id,
            digitised_at=self.digitised_at,
            digitised_by=self.digitised_by,
            pages=self.pages,
        )


class Access(BaseModel):
    """Who may read a dossier's files: the officials routing put on it. Kept apart from the
    dossier's record, as routing's events may come before intake's."""

    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(alias="_id")
    officials: list[str] = Field(default_factory=list)

    def admit(self, official: str | None) -> None:
        """Routing put `official` on the dossier (a step's holder, or who assigned it)."""
        if official and official not in self.officials:
            self.officials.append(official)


class DossierFiles(BaseModel):
    """Digitisation's record of one dossier: its components and whose it is."""

    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(alias="_id")
    commune: str
    unit: str = Field(description="The receiving unit.")
    owner: str | None = None
    received_at: datetime
    result_kind: str | None = None
    result_valid_days: int | None = None
    components: list[Component] = Field(default_factory=list)
    digitised_at: datetime | None = None
    trace: dict[str, str] = Field(
        default_factory=dict, description="The dossier's trace context: the officer's scans continue it."
    )

    @classmethod
    def received(cls, event: DossierReceived, commune: str, owner: str | None) -> DossierFiles:
        dossier = cls(
            _id=event.dossier_code,
            commune=commune,
            unit=event.commune_code,
            owner=owner,
            received_at=event.received_at,
            result_kind=event.result_kind,
            result_valid_days=event.result_valid_days,
        )
        dossier.add_components(event.components)
        return dossier

    def add_components(self, components: list) -> list[Component]:
        """Components as intake received them (at receipt, or with a supplement)."""
        added = []
        for component in components:
            index = len(self.components) + 1
            added.append(
                Component(
                    index=index,
                    name=component.name,
                    form=component.form,
                    kind=component.kind,
                    upload_id=component.document_id,
                )
            )
            self.components.append(added[-1])
        return added

    def document_id(self, component: Component) -> str:
        return component_document_id(self.code, component.index)

    def attach(self, component: Component, document: StoredDocument) -> None:
        """`document` is now `component`'s electronic copy."""
        component.document_id, component.source = document.id, document.source  # type: ignore[assignment]
        component.sha256, component.pages = document.sha256, document.pages
        component.digitised_at = document.stored_at
        component.digitised_by = document.signer.official if document.signer else None
        component.problem = None

    def missing(self, component: Component, problem: str) -> None:
        """The applicant's copy cannot be found: the component is scanned from paper instead."""
        component.problem = problem

    def awaiting_scan(self) -> list[Component]:
        return [c for c in self.components if not c.digitised]

    def component(self, name: str) -> Component | None:
        """The component called `name` that still awaits a scan, else the first called so."""
        named = [c for c in self.components if c.name == name]
        return next((c for c in named if not c.digitised), named[0] if named else None)

    def complete(self, now: datetime) -> DossierDigitised | None:
        """`dossier.digitised` the first time every component has a copy."""
        if self.digitised_at is not None or self.awaiting_scan():
            return None
        self.digitised_at = now
        count = lambda source: sum(1 for c in self.components if c.source == source)  # noqa: E731
        return DossierDigitised(
            dossier_code=self.code,
            components=[c.reported() for c in self.components],
            digitised_at=now,
            unit=self.unit,
            components_scanned=count("scanned"),
            components_uploaded=count("uploaded"),
            components_reused=count("reused"),
        )

    def result_valid_until(self, signed_at: datetime) -> datetime | None:
        return signed_at + timedelta(days=self.result_valid_days) if self.result_valid_days else None
