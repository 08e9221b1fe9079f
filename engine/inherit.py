"""`extends`: a child campaign is its parent with items overridden, added or removed by id."""

from __future__ import annotations

from typing import Any

from engine import texts
from engine.document import Mapping, Mark, Sequence, locate, origin_path

# Lists whose items are keyed by `id` (transitions by `id`, else `trigger`) merge item by item;
# every other list (stricter, remind, requires, signoffs, enum …) is replaced whole.
_KEYED_LISTS = {"phases", "checks", "transitions", "clocks", "targets", "sections", "rows"}

# Keys whose mapping is one value, replaced whole as section 13.1 says: a child's
# `due: {weekday: friday}` over the parent's `due: {day: 28}` is not `{day: 28, weekday: …}`,
# nor `for: {units: …}` over `for: {orgs: …}` both audiences.
_WHOLE = {"due", "for"}

# Keys that belong to the child alone: they describe the file, not the inherited content.
_CHILD_ONLY = ("extends",)

# What a report row is (one of these, `parts` going with `manual`): a child's row that names
# one replaces the parent's, so turning `manual` + `parts` into `figures` needs no removals;
# a row made manual or of figures also drops the parent's `where`, `attribute` and `within`.
_ROW_KINDS = ("count", "sum", "count_units", "count_checks", "manual", "figures")


# An overriding item's list of inherited keys to leave out (`drop: [due]`).
DROP = "drop"
# Keys an item of each keyed list cannot do without: dropping one is refused.
_REQUIRED = {"phases": ("id", "name", "due"), "checks": ("id", "name", "who", "for"),
             "transitions": ("id", "trigger", "from"), "clocks": ("id", "name", "due"),
             "targets": ("id", "name"), "sections": ("id", "name"), "rows": ("id", "name")}
# what an item of each keyed list is, by its id `campaign.item.<word>` ("check", 检查任务)
_WHAT = {"phases": "phase", "checks": "check", "transitions": "transition", "clocks": "clock",
         "targets": "target", "sections": "section", "rows": "row"}


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
    if key in _WHOLE:
        return child
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
            item, override = _dropped(item, override, _REQUIRED.get(list_name, ("id",)))
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


def _dropped(parent: Any, child: Any, required: tuple[str, ...]) -> tuple[Any, Any]:
    """An overriding item's `drop: [key, …]` applied: the parent's item without those keys,
    and the child's item without `drop` itself (it is an instruction, not content). A key
    the item needs is kept (the drop is refused, once, by `misplaced_drops`)."""
    if not isinstance(parent, Mapping) or not isinstance(child, Mapping) or DROP not in child:
        return parent, child
    names = set(as_names(child[DROP])) - set(required)
    kept = Mapping(parent.mark, parent.origin)
    for name, value in parent.items():
        if name not in names:
            kept.put(name, value, parent.key_marks[name], parent.value_marks[name])
    rest = Mapping(child.mark, child.origin)
    for name, value in child.items():
        if name != DROP:
            rest.put(name, value, child.key_marks[name], child.value_marks[name])
    return kept, rest


def as_names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def misplaced_drops(parent: Any, child: Any) -> list[tuple[list[str | int], str, str]]:
    """Every `drop` of a child (or of a campaign without a parent, `parent` None) that cannot
    be honoured: (path in the child, message, hint). A key dropped must be one the parent's
    item has, not one the item needs, and not one the child sets again."""
    found: list[tuple[list[str | int], str, str]] = []
    if not isinstance(child, Mapping):
        return found
    for list_name in _KEYED_LISTS:
        _drops_in(parent.get(list_name) if isinstance(parent, dict) else None,
                  child.get(list_name), [list_name], found)
    for name, value in child.items():  # keyed lists inside mappings: a case's transitions …
        if isinstance(value, Mapping) and name not in _KEYED_LISTS:
            theirs = parent.get(name) if isinstance(parent, dict) else None
            for key, inner in value.items():
                if isinstance(inner, Mapping):
                    found.extend(
                        ([name, key, *path], message, hint) for path, message, hint in
                        misplaced_drops(theirs.get(key) if isinstance(theirs, dict) else None,
                                        inner))
    return found


def _drops_in(parent: Any, child: Any, path: list[str | int],
              found: list[tuple[list[str | int], str, str]]) -> None:
    if not isinstance(child, list):
        return
    theirs = {item_key(i): i for i in parent} if isinstance(parent, list) else {}
    for index, item in enumerate(child):
        if not isinstance(item, Mapping) or DROP not in item:
            continue
        here: list[str | int] = [*path, index, DROP]
        inherited = theirs.get(item_key(item))
        if not isinstance(inherited, dict):
            found.append((here, texts.t("campaign.drop.inherits_nothing", id=item_key(item))
                          if parent is not None else texts.t("campaign.drop.extends_none"),
                          texts.t("campaign.drop.leave_out")))
            continue
        required = _REQUIRED.get(str(path[-1]), ("id",))
        for at, name in enumerate(as_names(item[DROP])):
            spot: list[str | int] = [*here, at]
            if name in required:
                what = texts.t(f"campaign.item.{_WHAT[str(path[-1])]}")
                found.append((spot, texts.t("campaign.drop.required", name=name, item=what),
                              texts.t("campaign.drop.required.hint", name=name)))
            elif name not in inherited:
                known = [k for k in inherited if k not in required]
                found.append((spot, texts.t("campaign.drop.not_inherited", id=item_key(item),
                                            name=name),
                              texts.t("campaign.drop.keys", keys=texts.listed(
                                  known)) if known else texts.t("campaign.drop.no_keys")))
            elif name in item:
                found.append((spot, texts.t("campaign.drop.also_set", name=name),
                              texts.t("campaign.drop.also_set.hint", name=name)))


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


def child_site(document: Mapping, path: list[str | int], mark: Mark, *,
               must_go: bool = False) -> tuple[Mark, str, str] | None:
    """Where a child campaign can fix a problem found at `mark`, in a parent file: the child's
    item (or list) that inherits the offending part, its path in the child, and the fix.

    None when the problem is in the document's own file, or nothing of the child encloses it
    (an untouched part of the parent, which the parent answers for). `must_go`: no value of
    the key fits (the complaint says to remove it), so the fix is to drop it."""
    own = document.mark.source
    if mark.source == own:
        return None
    node: Any = document
    depth = 0
    for index, step in enumerate(path, start=1):
        in_mapping = isinstance(node, dict) and isinstance(step, str) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if not (in_mapping or in_list):
            break
        node = node[step]
        if isinstance(node, (Mapping, Sequence)) and node.mark.source == own:
            depth = index
    if depth == 0:
        return None
    here = path[:depth]
    inherited = path[depth]
    item = depth >= 2 and isinstance(path[depth - 1], int) and path[depth - 2] in _KEYED_LISTS
    if isinstance(inherited, str) and item and must_go:  # no value of the key fits
        fix = texts.t("campaign.child.drop", key=inherited)
    elif isinstance(inherited, str) and item:
        fix = texts.t("campaign.child.override_or_drop", key=inherited)
    elif isinstance(inherited, str):
        fix = texts.t("campaign.child.override_or_remove", key=inherited)
    else:
        fix = texts.t("campaign.child.item")
    return locate(document, here), origin_path(document, here), fix
