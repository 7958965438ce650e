"""What stats builds at start: the province's units, the service index's definition, the
identity provider's verifier, and each read model's control document."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from services.runtime import Runtime
from services.runtime.auth import TokenVerifier
from services.runtime.units import Units, load_units

from . import index, replay, store
from .live import Changes
from .settings import StatsSettings


@dataclass
class Stats:
    units: Units
    index: index.Index
    verifier: TokenVerifier
    models: tuple[store.ReadModel, ...]  # the read models this version of stats keeps
    changes: Changes  # what the live pages follow


async def start(runtime: Runtime[Any], models: tuple[store.ReadModel, ...] = store.READ_MODELS) -> Stats:
    settings = cast(StatsSettings, runtime.settings)
    definition = index.load(Path(settings.index_file)) if settings.index_file else index.load()
    for model in models:
        await replay.ensure(runtime, model)
    await runtime.documents.index(store.CHANGES, [("at", 1)])
    return Stats(
        load_units(settings.units_file),
        definition,
        TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
        models,
        Changes(runtime.documents),
    )
