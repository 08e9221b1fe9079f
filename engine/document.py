"""Campaign YAML read safely into plain containers that remember where each value stood.

Safety: only the YAML safe subset is constructed (no Python tags), the text has a size limit, and a
document whose aliases expand past a node limit is refused ("billion laughs"). Dates stay strings
(the schema checks them) and only `true`/`false` are booleans, so `no` or `on` never turn into
booleans by surprise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine import texts
from engine.errors import Problem

MAX_BYTES = 1_000_000
MAX_EXPANDED_NODES = 100_000
MAX_SCALAR = 20_000  # characters of one value: a long description is a few hundred
MAX_KEY = 200  # characters of one key: every problem under it repeats it in its path
MAX_NUMBER = 32  # characters of a number: Python refuses to read an integer of 4,300 digits
# (and the base-60 form `1:2:3:…` of YAML 1.1 costs time quadratic in its length)


@dataclass(frozen=True)
class Mark:
    """Where a value stands: file, 1-based line and column."""

    source: str
    line: int
    column: int


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers the position of itself, its keys and its values."""

    mark: Mark
    origin: str
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]

    def __init__(self, mark: Mark, origin: str = "$") -> None:
        super().__init__()
        self.mark = mark
        self.origin = origin  # its JSON path in its own file (differs after `extends` merging)
        self.key_marks = {}
        self.value_marks = {}

    def put(self, key: str, value: Any, key_mark: Mark, value_mark: Mark) -> None:
        self[key] = value
        self.key_marks[key] = key_mark
        self.value_marks[key] = value_mark


class Sequence(list[Any]):
    """A YAML sequence that remembers the position of itself and of each item."""

    mark: Mark
    origin: str
    item_marks: list[Mark]

    def __init__(self, mark: Mark, origin: str = "$") -> None:
        super().__init__()
        self.mark = mark
        self.origin = origin
        self.item_marks = []

    def push(self, value: Any, mark: Mark) -> None:
        self.append(value)
        self.item_marks.append(mark)


class DocumentError(Exception):
    """The text is not a readable campaign document; carries the problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-style scalars: no timestamps, booleans only true/false."""


_Resolver.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


MAX_DEPTH = 64


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _Cycle(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # PyYAML composes recursively; a deeply nested file would overflow the stack.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _mark(source: str, node: Node) -> Mark:
    return Mark(source, node.start_mark.line + 1, node.start_mark.column + 1)


def _expanded_size(node: Node, memo: dict[int, int], depth: int = 0) -> int:
    """Node count with every alias expanded, memoised so shared subtrees are cheap to count."""
    known = memo.get(id(node))
    if known == -1:
        raise _Cycle(node.start_mark)
    if known is not None:
        return known
    if depth > 3 * MAX_DEPTH:  # aliases nested inside aliases: deeper than any file is written
        raise _TooDeep(node.start_mark)
    memo[id(node)] = -1  # in progress: meeting it again below means an alias cycle
    size = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, depth + 1)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo, depth + 1) + _expanded_size(value, memo, depth + 1)
    memo[id(node)] = size
    return size


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")}


class _Builder:
    """Turns a composed node tree into Mapping/Sequence/scalars, collecting problems."""

    def __init__(self, loader: _Loader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.problems: list[Problem] = []

    def build(self, node: Node, path: str) -> Any:
        if isinstance(node, (MappingNode, SequenceNode)) and node.tag not in _PLAIN_TAGS:
            mark = _mark(self.source, node)
            self._problem(mark, path, texts.t("campaign.yaml.tag", tag=node.tag),
                          texts.t("campaign.yaml.tag.hint"))
            return None
        if isinstance(node, ScalarNode) and node.tag not in _SCALAR_TAGS:
            mark = _mark(self.source, node)
            self._problem(mark, path, texts.t("campaign.yaml.tag", tag=node.tag),
                          texts.t("campaign.yaml.tag.hint"))
            return None
        if isinstance(node, ScalarNode) and not self._sized(node, path):
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            seq = Sequence(_mark(self.source, node), path)
            for index, child in enumerate(node.value):
                seq.push(self.build(child, f"{path}[{index}]"), _mark(self.source, child))
            return seq
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: str) -> Mapping:
        self.loader.flatten_mapping(node)  # applies `<<:` merge keys
        result = Mapping(_mark(self.source, node), path)
        for key_node, value_node in node.value:
            key_mark = _mark(self.source, key_node)
            if not isinstance(key_node, ScalarNode):
                self._problem(key_mark, path, texts.t("campaign.yaml.key_not_plain"),
                              texts.t("campaign.yaml.key_not_plain.hint"))
                continue
            if len(key_node.value) > MAX_KEY:
                self._problem(key_mark, path,
                              texts.t("campaign.yaml.key_long", length=len(key_node.value)),
                              texts.t("campaign.yaml.key_long.hint", limit=MAX_KEY))
                continue
            if not self._sized(key_node, path):
                continue
            key = str(self.loader.construct_object(key_node))
            child_path = join_path(path, key)
            if key in result:
                first = result.key_marks[key]
                self._problem(
                    key_mark,
                    child_path,
                    texts.t("campaign.yaml.duplicate_key", key=key),
                    texts.t("campaign.yaml.duplicate_key.hint", line=first.line),
                )
                continue
            result.put(
                key, self.build(value_node, child_path), key_mark, _mark(self.source, value_node)
            )
        return result

    def _sized(self, node: ScalarNode, path: str) -> bool:
        """A scalar within the limits; otherwise a problem at its place, and False."""
        number = node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if number and len(node.value) > MAX_NUMBER:
            self._problem(_mark(self.source, node), path,
                          texts.t("campaign.yaml.number_long", length=len(node.value)),
                          texts.t("campaign.yaml.number_long.hint", limit=MAX_NUMBER))
            return False
        if len(node.value) > MAX_SCALAR:
            self._problem(_mark(self.source, node), path,
                          texts.t("campaign.yaml.value_long", length=len(node.value)),
                          texts.t("campaign.yaml.value_long.hint", limit=MAX_SCALAR))
            return False
        return True

    def _problem(self, mark: Mark, path: str, message: str, hint: str) -> None:
        self.problems.append(Problem(mark.source, mark.line, mark.column, path, message, hint))


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join_path(path: str, key: str | int) -> str:
    """Extend a JSON path: `$.a` + `b` -> `$.a.b`, + 3 -> `$.a[3]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.match(key):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def _refuse(source: str, line: int, column: int, message: str, hint: str,
            path: str = "$") -> DocumentError:
    return DocumentError([Problem(source, line, column, path, message, hint)])


def _overflow_at(node: Node, limit: int, memo: dict[int, int], path: str) -> tuple[Node, str]:
    """The value at which the expanded size first passes the limit: where the bomb goes off."""
    total = 1
    children: list[tuple[Node, str]] = []
    if isinstance(node, MappingNode):
        children = [(v, join_path(path, str(k.value))) for k, v in node.value]
    elif isinstance(node, SequenceNode):
        children = [(v, join_path(path, i)) for i, v in enumerate(node.value)]
    for child, child_path in children:
        size = _expanded_size(child, memo)
        if size > limit:
            # Inside a list the items are aliases whose marks point at their anchors elsewhere;
            # the list itself is the place to name.
            if isinstance(child, MappingNode):
                return _overflow_at(child, limit, memo, child_path)
            return child, child_path
        total += size
        if total > limit:
            return child, child_path
    return node, path


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, source: str) -> DocumentError:
    mark = exc.problem_mark or exc.context_mark
    context = str(exc.context or "")
    # Where an unclosed bracket, quote or key *started* is the useful place, not where the
    # scanner gave up (usually the next line).
    if exc.context_mark is not None and ("scanning" in context or "flow" in context):
        mark = exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    hint = texts.t("campaign.yaml.syntax.hint")
    previous = lines[line - 2] if 1 < line <= len(lines) + 1 else ""
    if "found '<scalar>'" in str(exc.problem) and (
        previous.count('"') % 2 or previous.count("'") % 2
    ):
        line, column = line - 1, previous.find('"' if previous.count('"') % 2 else "'") + 1
        return _refuse(source, line, column, texts.t("campaign.yaml.unclosed_quote"),
                       texts.t("campaign.yaml.unclosed_quote.hint"))
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "：" in here and ":" not in here.split("#")[0]:
        hint = texts.t("campaign.yaml.full_width_colon")
    message = str(exc.problem or exc.context or "")
    return _refuse(source, line, column, texts.t("campaign.yaml.syntax", problem=_yaml_words(
        message) if message else texts.t("campaign.yaml.unreadable")), hint)


# PyYAML's words for what it could not read, those that need no value of the file, by id
_YAML_PROBLEMS = {
    "mapping values are not allowed here": "mapping_values",
    "could not find expected ':'": "no_colon",
    "found character '\\t' that cannot start any token": "tab",
    "found undefined alias": "undefined_alias",
    "found unhashable key": "unhashable_key",
    "expected a comment or a line break, but found": "after_value",
}


def _yaml_words(problem: str) -> str:
    """PyYAML's complaint in the language spoken, where the catalogue words it (English, as
    PyYAML wrote it, otherwise)."""
    for words, name in _YAML_PROBLEMS.items():
        if problem == words or problem.startswith(words + " "):
            return texts.t(f"campaign.yaml.problem.{name}", rest=problem[len(words):])
    return problem


def parse(
    text: str, source: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_EXPANDED_NODES
) -> Mapping:
    """Parse campaign text; raise DocumentError with located problems if it cannot be read."""
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise _refuse(source, 1, 1, texts.t("campaign.yaml.too_large", limit=max_bytes),
                      texts.t("campaign.yaml.too_large.hint"))
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            raise _refuse(source, 1, 1, texts.t("campaign.yaml.empty"),
                          texts.t("campaign.yaml.start_hint"))
        memo: dict[int, int] = {}
        if _expanded_size(root, memo) > max_nodes:
            node, path = _overflow_at(root, max_nodes, memo, "$")
            mark = _mark(source, node)
            raise _refuse(source, mark.line, mark.column,
                          texts.t("campaign.yaml.alias_bomb", limit=max_nodes),
                          texts.t("campaign.yaml.alias_bomb.hint"), path)
        builder = _Builder(loader, source)
        document = builder.build(root, "$")
    except _TooDeep as exc:
        raise _refuse(source, exc.mark.line + 1, exc.mark.column + 1,
                      texts.t("campaign.yaml.too_deep", limit=MAX_DEPTH),
                      texts.t("campaign.yaml.too_deep.hint")) from None
    except _Cycle as exc:
        raise _refuse(source, exc.mark.line + 1, exc.mark.column + 1,
                      texts.t("campaign.yaml.alias_cycle"),
                      texts.t("campaign.yaml.alias_cycle.hint")) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_problem(exc, text, source) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise _refuse(source, line, column,
                      texts.t("campaign.yaml.character", character=exc.character),
                      texts.t("campaign.yaml.character.hint")) from exc
    except yaml.YAMLError as exc:
        raise _refuse(source, 1, 1, texts.t("campaign.yaml.other", problem=exc),
                      texts.t("campaign.yaml.other.hint")) from exc
    finally:
        if loader is not None:
            loader.dispose()
    if builder.problems:
        raise DocumentError(builder.problems)
    if not isinstance(document, Mapping):
        mark = _mark(source, root)
        raise _refuse(source, mark.line, mark.column, texts.t("campaign.yaml.not_mapping"),
                      texts.t("campaign.yaml.start_hint"))
    return document


def locate(document: Mapping, path: list[str | int], *, key: bool = False) -> Mark:
    """The mark of the value at `path` (or of its key); the nearest existing ancestor if absent."""
    node: Any = document
    mark = document.mark
    for step in path:
        if isinstance(node, Mapping) and isinstance(step, str) and step in node:
            key_mark, value_mark = node.key_marks[step], node.value_marks[step]
            # A block mapping or list starts on the line after its key; the key names it.
            block = isinstance(node[step], (dict, list)) and value_mark.line > key_mark.line
            mark = key_mark if (key and step == path[-1]) or block else value_mark
            node = node[step]
        elif isinstance(node, Sequence) and isinstance(step, int) and 0 <= step < len(node):
            mark = node.item_marks[step]
            node = node[step]
        else:
            break
    return mark


def origin_path(document: Mapping, path: list[str | int]) -> str:
    """The JSON path of `path` as numbered in the file the value came from.

    After `extends` merging, list indices of the resolved campaign differ from those in the
    child file; an error should name the place the author can find in their own file.
    """
    target = locate(document, path).source
    node: Any = document
    best: tuple[str, int] | None = (document.origin, 0) if document.mark.source == target else None
    for depth, step in enumerate(path, start=1):
        in_mapping = isinstance(node, dict) and isinstance(step, str) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if in_mapping or in_list:
            node = node[step]
        else:
            break
        if isinstance(node, (Mapping, Sequence)) and node.mark.source == target:
            best = (node.origin, depth)
    if best is None:
        best = ("$", 0)
    text = best[0]
    for step in path[best[1]:]:
        text = join_path(text, step)
    return text


def format_path(parts: Iterable[str | int]) -> str:
    """A JSON path from its steps: ["cases", "hazard", 3] -> `$.cases.hazard[3]`."""
    text = "$"
    for part in parts:
        text = join_path(text, part)
    return text


def plain(value: Any) -> Any:
    """Position-carrying containers as plain dicts and lists (for dumping or JSON Schema)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
