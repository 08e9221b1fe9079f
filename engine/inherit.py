"""`extends`: a child campaign is its parent with items overridden, added or removed by id."""

from __future__ import annotations

from typing import Any

from engine.document import Mapping, Mark, Sequence

# Lists whose items are keyed by `id` (transitions by `id`, else `trigger`) merge item by item;
# every other list (stricter, remind, requires, signoffs, enum …) is replaced whole.
_KEYED_LISTS = {"phases", "checks", "transitions", "clocks", "targets", "sections", "rows"}

# Keys that belong to the child alone: they describe the file, not the inherited content.
_CHILD_ONLY = ("extends",)

# What a report row is (one of these, `parts` going with `manual`): a child's row that names
# one replaces the parent's, so turning `manual` + `parts` into `figures` needs no removals;
# a row made manual or of figures also drops the parent's `where`, `attribute` and `within`.
_ROW_KINDS = ("count", "sum", "count_units", "count_checks", "manual", "figures")


def item_key(item: Any) -> str | None:
    """The id an item of a keyed list is merged by."""
    if not isinstance(item, dict):
        return None
    key = item.get("id", item.get("trigger"))
    return key if isinstance(key, str) else None


def is_removal(value: Any) -> bool:
    return isinstance(value, dict) and value.get("remove") is True


def merge(parent: Any, child: Any, key: str | None = None) -> Any:
    """The child's value laid over the parent's; positions come from whichever side supplied it."""
    if isinstance(parent, Mapping) and isinstance(child, Mapping):
        return _merge_mapping(parent, child)
    if key in _KEYED_LISTS and isinstance(parent, Sequence) and isinstance(child, Sequence):
        return _merge_keyed(parent, child, key)
    return child


def _merge_mapping(parent: Mapping, child: Mapping) -> Mapping:
    result = Mapping(child.mark, child.origin)
    for name, value in parent.items():
        if name in _CHILD_ONLY:
            continue
        if name in child:
            if is_removal(child[name]):
                continue
            result.put(
                name,
                merge(value, child[name], name),
                child.key_marks[name],
                child.value_marks[name],
            )
        else:
            result.put(name, value, parent.key_marks[name], parent.value_marks[name])
    for name, value in child.items():
        # the child's own `extends` is kept even though its parent has one (a grandchild)
        if (name not in parent or name in _CHILD_ONLY) and not is_removal(value):
            result.put(name, value, child.key_marks[name], child.value_marks[name])
    return result


def _merge_keyed(parent: Sequence, child: Sequence, list_name: str) -> Sequence:
    result = Sequence(child.mark, child.origin)
    overrides: dict[str, tuple[Any, Mark]] = {}
    for item, mark in zip(child, child.item_marks, strict=True):
        key = item_key(item)
        if key is not None:
            overrides.setdefault(key, (item, mark))
    used: set[str] = set()
    for item, mark in zip(parent, parent.item_marks, strict=True):
        key = item_key(item)
        if key is not None and key in overrides:
            used.add(key)
            override, override_mark = overrides[key]
            if is_removal(override):
                continue
            if list_name == "rows":
                item = _row_without_its_kind(item, override)
            result.push(merge(item, override), override_mark)
        else:
            result.push(item, mark)
    for item, mark in zip(child, child.item_marks, strict=True):
        key = item_key(item)
        if key is None or key not in used:
            if not is_removal(item):
                result.push(item, mark)
            used.add(key or "")
    return result


def _row_without_its_kind(parent: Any, child: Any) -> Any:
    """The parent's row without what it counts, when the child's row says what it counts."""
    if not isinstance(parent, Mapping) or not isinstance(child, Mapping):
        return parent
    if not any(k in child for k in _ROW_KINDS):
        return parent
    dropped = {*_ROW_KINDS, "parts"} - {"parts" if "manual" in child else ""}
    if "manual" in child or "figures" in child:
        dropped |= {"where", "attribute", "within"}  # they filter a count the row no longer has
    kept = Mapping(parent.mark, parent.origin)
    for name, value in parent.items():
        if name not in dropped or name in child:
            kept.put(name, value, parent.key_marks[name], parent.value_marks[name])
    return kept


def unmatched_ids(parent: Any, child: Any) -> list[tuple[list[str | int], str, list[str]]]:
    """Child items that remove or override an id the parent lacks: almost always a misspelling.

    Yields (path in the child, the id, the parent's ids there) for every `remove: true` with no
    match and every new keyed item without a `name` (a new item needs one; an override doesn't).
    """
    return _unmatched(parent, child, [])


def _unmatched(
    parent: Any, child: Any, path: list[str | int]
) -> list[tuple[list[str | int], str, list[str]]]:
    found: list[tuple[list[str | int], str, list[str]]] = []
    if not isinstance(child, Mapping):
        return found
    for name, value in child.items():
        here: list[str | int] = [*path, name]
        parent_value = parent.get(name) if isinstance(parent, dict) else None
        if is_removal(value) and parent_value is None:
            known = list(parent) if isinstance(parent, dict) else []
            found.append((here, name, known))
        elif isinstance(value, Sequence) and name in _KEYED_LISTS:
            items = parent_value if isinstance(parent_value, list) else []
            by_key = {item_key(i): i for i in items}
            known = [k for k in by_key if k]
            for index, item in enumerate(value):
                key = item_key(item)
                if key in by_key:
                    found.extend(_unmatched(by_key[key], item, [*here, index]))
                elif is_removal(item) or (known and isinstance(item, dict) and "name" not in item):
                    found.append(([*here, index], key or "?", known))
        elif isinstance(value, Mapping):
            found.extend(_unmatched(parent_value, value, here))
    return found


def removals(child: Any, path: list[str | int] | None = None) -> list[tuple[list[str | int], str]]:
    """Every `remove: true` in a child document: (its path, the id it removes)."""
    path = path or []
    found: list[tuple[list[str | int], str]] = []
    if isinstance(child, dict):
        for name, value in child.items():
            if is_removal(value):
                found.append(([*path, name], name))
            else:
                found.extend(removals(value, [*path, name]))
    elif isinstance(child, list):
        for index, item in enumerate(child):
            key = item_key(item)
            if is_removal(item) and key:
                found.append(([*path, index], key))
            else:
                found.extend(removals(item, [*path, index]))
    return found
