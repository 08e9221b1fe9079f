"""The pages, a module per section of the screens, each with its `router`; every module here is
included (web.app), in the order of their names."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def _routers() -> tuple[APIRouter, ...]:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        router = getattr(importlib.import_module(f"{__name__}.{module.name}"), "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return tuple(found)


PAGES = _routers()
