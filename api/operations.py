"""The operations of the OpenAPI document, found by a request's path: which methods a path
takes (for `Allow`) and which query parameters an operation declares (for refusing others).

A path matches as OpenAPI says paths match: a concrete path (`/orgs/import`) before a templated
one (`/orgs/{org_id}`). The table is built once per app, from the document the app serves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import compile_path

METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass(frozen=True)
class Operation:
    """One method at one path, with its query parameters: name -> may it repeat (an array)."""

    method: str
    path: str
    query: Mapping[str, bool]


class Operations:
    """The operations of a document, by path."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._paths: list[tuple[int, re.Pattern[str], dict[str, Operation]]] = []
        for path, item in document.get("paths", {}).items():
            found = {method.upper(): Operation(method.upper(), path, _query(operation))
                     for method, operation in item.items() if method in METHODS}
            self._paths.append((path.count("{"), compile_path(path)[0], found))

    def at(self, path: str) -> dict[str, Operation]:
        """The operations of the document path `path` matches, by method ({} for none)."""
        matches = [(templated, found) for templated, regex, found in self._paths
                   if regex.match(path)]
        if not matches:
            return {}
        best = min(templated for templated, _ in matches)
        return {method: operation for templated, found in matches if templated == best
                for method, operation in found.items()}


def _query(operation: Mapping[str, Any]) -> dict[str, bool]:
    return {p["name"]: p.get("schema", {}).get("type") == "array"
            or any(s.get("type") == "array" for s in p.get("schema", {}).get("anyOf", []))
            for p in operation.get("parameters", []) if p.get("in") == "query"}


def operations(app: FastAPI) -> Operations:
    """The app's operations: those `create_app` gave it, or built from its document."""
    found: Operations | None = getattr(app.state, "operations", None)
    if found is None:
        found = app.state.operations = Operations(app.openapi())
    return found


_BUILT: dict[tuple[int, ...], Operations] = {}


def of_routers(routers: Sequence[APIRouter]) -> Operations:
    """The operations of an app made of `routers` (module-level objects that live as long as
    the process), built once: every app `create_app` makes has the same, and writing the
    document takes a good part of a second."""
    key = tuple(id(router) for router in routers)
    if key not in _BUILT:
        app = FastAPI()
        for router in routers:
            app.include_router(router)
        _BUILT[key] = Operations(app.openapi())
    return _BUILT[key]
