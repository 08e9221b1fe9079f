"""What a request must be before any route reads it.

- No character a database refuses: PostgreSQL refuses NUL (U+0000) in text and text that is
  not Unicode (a lone surrogate such as `\\ud800`, which JSON can spell); SQLite would store NUL
  and fail on a surrogate. A NUL in the path, a query parameter or a header is refused here,
  the same on both databases, naming where it is; request bodies are checked by their models
  (api.schemas.RequestModel, with `unstorable`).
- Only the query parameters its operation declares, each once (unless it is a list): a
  misspelt filter (`?stat=closed`) or a parameter sent to a route that takes it in the body
  (`POST /deliveries/redrive?ids=3`) must not be ignored, and `?parent=a&parent=b` must not
  quietly mean `b`.

Each refusal is a 422 `request_invalid` located like a validation error (`path`,
`query.<name>`, `header.<name>`), after the caller's token is checked (401 first): the request
guard runs these checks in its one pass in front of the routes.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qsl

from starlette.types import Scope

from api.operations import operations
from engine.schema import did_you_mean
from engine.texts import listed, t

# NUL and the UTF-16 surrogates: a str holding one cannot be stored as text
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if text.isascii() and "\x00" not in text:  # nearly all text: no surrogate in ASCII
        return None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return t("api.text.nul")
    return t("api.text.surrogate", codepoint=f"{ord(found.group()):04X}")


def refusals(scope: Scope) -> list[dict[str, str]]:
    """What is wrong with an HTTP request before any route reads it (the checks above), as
    problems of a 422 `request_invalid`; none for nearly every request. The request guard
    (api.guard) asks once the caller's token is checked."""
    return _unstorable(scope) or _undeclared(scope)


def _unstorable(scope: Scope) -> list[dict[str, str]]:
    # cheap tests first: this runs on every request, the event route's included
    path: str = scope["path"]
    if "\x00" in path:
        return [{"location": "path", "message": unstorable(path) or ""}]
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            reason = unstorable(name) or unstorable(value)
            if reason is not None:
                return [{"location": f"query.{_shown(name)}", "message": reason}]
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return [{"location": f"header.{_shown(name.decode('latin-1'))}",
                     "message": unstorable(value.decode("latin-1")) or ""}]
    return []


def _undeclared(scope: Scope) -> list[dict[str, str]]:
    query: bytes = scope.get("query_string", b"")
    if not query:
        return []
    operation = operations(scope["app"]).at(scope["path"]).get(scope["method"])
    if operation is None:  # no such route or method: the router says so
        return []
    problems = []
    counts = Counter(name for name, _ in parse_qsl(query.decode("latin-1"),
                                                   keep_blank_values=True))
    for name, count in counts.items():
        if name not in operation.query:
            takes = (t("api.query.takes_none") if not operation.query else
                     did_you_mean(name, operation.query) if _close(name, operation.query) else
                     t("api.query.takes", names=listed(
                         sorted(operation.query))))
            problems.append({"location": f"query.{_shown(name)}",
                             "message": t("api.query.unknown", takes=takes)})
        elif count > 1 and not operation.query[name]:
            problems.append({"location": f"query.{_shown(name)}",
                             "message": t("api.query.repeated", count=count)})
    return problems


def _close(name: str, known: Iterable[str]) -> bool:
    """Whether a known name is close enough to `name` for a "did you mean" (as
    engine.schema.did_you_mean finds one)."""
    return bool(difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6))


def _shown(name: str) -> str:
    return name.replace("\x00", "\\x00")
