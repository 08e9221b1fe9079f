"""Whether a value in a condition can ever equal (or be ordered against) a value of its field:
a condition comparing values of different types never holds, and validation says so.

A campaign file is read as YAML 1.2 (engine.document): only `true` and `false` are booleans, so
`city_managed: yes` compares a boolean field with the text 'yes'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine import texts


class _Words(dict[str, str]):
    """The field types a condition's values are checked against, each as a message names it
    in the language spoken when it is read (`campaign.type.<type>`: "true or false"). A dict
    (of each type's id) so that `kind in KINDS` narrows a type checker's idea of `kind`."""

    def __init__(self, *kinds: str) -> None:
        super().__init__((kind, f"campaign.type.{kind}") for kind in kinds)

    def __getitem__(self, kind: str) -> str:
        return texts.t(super().__getitem__(kind))

    def get(self, kind: str, default: Any = None) -> Any:
        try:
            return self[kind]
        except KeyError:
            return default

    def values(self) -> Any:
        return [self[kind] for kind in self]

    def items(self) -> Any:
        return [(kind, self[kind]) for kind in self]


# typed as the dict it is: `kind in KINDS` then narrows `kind` to a text
KINDS: dict[str, str] = _Words("boolean", "integer", "number", "string", "date", "datetime")
_YAML11_BOOLEANS = {"yes": "true", "no": "false", "on": "true", "off": "false", "y": "true",
                    "n": "false", "true": "true", "false": "false"}


def type_problem(kind: str, value: Any, op: str) -> tuple[str, str] | None:
    """Why `value` can never equal (or be ordered against) a value of a field of `kind`:
    (what the value is, the fix), or None when it can."""
    if value is None:
        return (texts.t("campaign.value.nothing"),
                texts.t("campaign.condition.empty", test="{present: false}"))
    ordering = op in ("gt", "gte", "lt", "lte")
    if kind == "boolean":
        if ordering and not isinstance(value, bool):  # the schema refuses true/false there
            return (texts.t("campaign.condition.by_size"),
                    texts.t("campaign.condition.by_size.hint"))
        if isinstance(value, bool):
            return None
        word = _YAML11_BOOLEANS.get(str(value).lower())
        if word is not None:
            return texts.t("campaign.type.string"), texts.t("campaign.condition.yaml11",
                                                            word=word)
        return (texts.t("campaign.condition.not_boolean"),
                texts.t("campaign.condition.not_boolean.hint"))
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fix = (texts.t("campaign.condition.unquote", value=value) if _numeric(value)
                   else texts.t("campaign.condition.number"))
            return texts.t("campaign.type.boolean" if isinstance(value, bool)
                           else "campaign.type.string"), fix
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            return (texts.t("campaign.condition.not_integer"),
                    texts.t("campaign.condition.not_integer.hint"))
        return None
    if kind in ("date", "datetime"):
        if not isinstance(value, str) or _not_a_date(value):
            return (texts.t("campaign.condition.not_date"),
                    texts.t("campaign.condition.not_date.hint"))
        return None
    if kind == "string" and not isinstance(value, str):
        if ordering and isinstance(value, (int, float)) and not isinstance(value, bool):
            return (texts.t("campaign.type.number"),
                    texts.t("campaign.condition.quote_or_number", value=value))
        return texts.t("campaign.type.boolean" if isinstance(value, bool)
                       else "campaign.type.number"), texts.t(
            "campaign.condition.quote",
            value=str(value).lower() if isinstance(value, bool) else value)
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
