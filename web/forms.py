"""Forms generated from fields' JSON Schemas: a case's fields (a transition's `requires` and
`sets`, a signer's own), a check's evidence. One place turns a schema into an input
(templates/_fields.html renders a FormField), posted strings back into typed values, and a
refusal's problem details into the message beside each field."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import Field


@dataclass(frozen=True)
class FormField:
    """One input: the field's name, its title (the label), its schema, whether it is
    required, the labels of its enum's values, and the value to show."""

    name: str
    title: str
    schema: Mapping[str, Any]
    required: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The input it is: date, datetime, integer, number, boolean, select, text or
        textarea (long free text: descriptions, measures, opinions)."""
        schema = self.schema
        if "enum" in schema:
            return "select"
        kind = schema.get("type")
        if kind == "string":
            form = schema.get("format")
            if form == "date":
                return "date"
            if form == "date-time":
                return "datetime"
            if schema.get("maxLength", 1000) <= 100:
                return "text"
            return "textarea"
        if kind in ("integer", "number", "boolean"):
            return str(kind)
        return "text"

    @property
    def options(self) -> list[tuple[str, str]]:
        """An enum's values with their labels (the value itself where none is given)."""
        return [(str(v), self.labels.get(str(v), str(v))) for v in self.schema.get("enum", ())]


def of_case_fields(fields: Iterable[Field], required: Iterable[str],
                   vocabulary: Mapping[str, str] | None = None) -> list[FormField]:
    """The inputs of a case's fields (engine.model.Field), the `required` ones marked. A field
    whose values the campaign names elsewhere (`vocabulary`: its industries) and not in the
    field itself takes those names when every value is one of them."""
    needed = set(required)
    found = []
    for f in fields:
        labels = dict(f.labels)
        values = [str(v) for v in f.schema.get("enum", ())]
        if not labels and vocabulary and values and all(v in vocabulary for v in values):
            labels = {v: vocabulary[v] for v in values}
        found.append(FormField(f.name, f.title or f.name, f.schema, f.name in needed, labels))
    return found


def of_schema(schema: Mapping[str, Any]) -> list[FormField]:
    """The inputs of an object's JSON Schema (a check's evidence): one per property, titled
    by its `title`, in the schema's order."""
    needed = set(schema.get("required", ()))
    properties: Mapping[str, Any] = schema.get("properties", {})
    return [FormField(name, str(spec.get("title") or name), spec, name in needed,
                      dict(spec.get("x-labels", {})))
            for name, spec in properties.items()]


def values_from_form(form: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, Any]:
    """The fields' values from a posted form, typed as their schemas say: an empty optional
    field is left out; a number that does not parse stays text, so the API's validation names
    it beside its field; a checkbox is true when sent, false when not."""
    values: dict[str, Any] = {}
    for item in fields:
        raw = form.get(item.name)
        if item.kind == "boolean":
            values[item.name] = raw is not None and str(raw) not in ("", "false", "0")
            continue
        if raw is None or not isinstance(raw, str) or raw.strip() == "":
            continue
        text = raw.strip()
        values[item.name] = _typed(text, item)
    return values


def _typed(text: str, item: FormField) -> Any:
    kind = item.kind
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        if not math.isfinite(number):
            return text
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "select":
        # an enum of numbers posts its value as text: the schema's own value is sent
        for value in item.schema.get("enum", ()):
            if str(value) == text:
                return value
    return text


def field_errors(problem: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """A refusal's messages by the field they are about: the fields a transition misses, the
    data problems that start with a field's name (`funds_amount: …`), and request problems
    located at a field (`body.data.deadline`)."""
    known = list(names)
    found: dict[str, str] = {}
    for name in problem.get("missing_fields") or ():
        if name in known:
            found[name] = problem.get("detail", "")
    for entry in problem.get("problems") or ():
        if isinstance(entry, str):
            name, sep, _ = entry.partition(":")
            if sep and name.strip() in known:
                found.setdefault(name.strip(), entry)
        elif isinstance(entry, Mapping):
            # a request's `location` (body.data.deadline) or the evidence's JSON `path`
            # ($.record); a name may hold dots itself (a report's figure penalties.1)
            where = str(entry.get("location") or entry.get("path") or "")
            name = next((n for n in sorted(known, key=len, reverse=True)
                         if where == n or where.endswith("." + n)), None)
            if name is not None:
                found.setdefault(name, str(entry.get("message", "")))
    return found
