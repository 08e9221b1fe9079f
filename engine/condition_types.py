"""Whether a value in a condition can ever equal (or be ordered against) a value of its field:
a condition comparing values of different types never holds, and validation says so.

A campaign file is read as YAML 1.2 (engine.document): only `true` and `false` are booleans, so
`city_managed: yes` compares a boolean field with the text 'yes'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# the field types a condition's values are checked against, as a message names them
KINDS = {"boolean": "true or false", "integer": "a whole number", "number": "a number",
         "string": "text", "date": "a date", "datetime": "a date and time"}
_YAML11_BOOLEANS = {"yes": "true", "no": "false", "on": "true", "off": "false", "y": "true",
                    "n": "false", "true": "true", "false": "false"}


def type_problem(kind: str, value: Any, op: str) -> tuple[str, str] | None:
    """Why `value` can never equal (or be ordered against) a value of a field of `kind`:
    (what the value is, the fix), or None when it can."""
    if value is None:
        return "nothing", "to test an empty field write `{present: false}`"
    ordering = op in ("gt", "gte", "lt", "lte")
    if kind == "boolean":
        if ordering and not isinstance(value, bool):  # the schema refuses true/false there
            return "compared by size", "a true/false field is tested with `true` or `false`"
        if isinstance(value, bool):
            return None
        word = _YAML11_BOOLEANS.get(str(value).lower())
        if word is not None:
            return "text", (
                f"write `{word}`: only true and false are booleans in a campaign file "
                "(YAML 1.2), so yes/no/on/off are text")
        return "not true or false", "write `true` or `false`"
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fix = (f"write {value} without quotes" if _numeric(value)
                   else "compare with a number, e.g. 50")
            return ("true or false" if isinstance(value, bool) else "text"), fix
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            return "not a whole number", "compare with a whole number"
        return None
    if kind in ("date", "datetime"):
        if not isinstance(value, str) or _not_a_date(value):
            return "not a date", "write the date as YYYY-MM-DD, e.g. 2023-11-30"
        return None
    if kind == "string" and not isinstance(value, str):
        if ordering and isinstance(value, (int, float)) and not isinstance(value, bool):
            return "a number", f"quote it: '{value}', or give the field `type: number`"
        return ("true or false" if isinstance(value, bool) else "a number"), (
            f"quote it: '{str(value).lower() if isinstance(value, bool) else value}'")
    return None


def _numeric(value: Any) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True




def _not_a_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return True
    return False
