"""pyproject.toml declares what the code imports, as ranges; constraints.txt pins the whole
tested set, and it is what this environment holds."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CODE = ("engine", "storage", "api", "deadlines", "paicha", "web")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
EXTRAS = {name: [Requirement(line) for line in lines]
          for name, lines in PROJECT["optional-dependencies"].items()}
# data that follows the calendar, not an API: a newer release never breaks a caller
NO_UPPER_BOUND = {"tzdata"}


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {*CODE, "__future__"}


def test_every_imported_library_is_a_direct_dependency() -> None:
    declared = {canonicalize_name(r.name) for r in RUNTIME}
    owners = importlib.metadata.packages_distributions()
    undeclared = {module: owners.get(module) for module in _imported_top_level_modules()
                  if not declared & {canonicalize_name(d) for d in owners.get(module, [])}}
    assert undeclared == {}, "imported but not in [project] dependencies"


def test_dependencies_are_ranges_not_pins() -> None:
    for requirement in [*RUNTIME, *(r for reqs in EXTRAS.values() for r in reqs)]:
        if canonicalize_name(requirement.name) == "paicha":
            continue  # the test extra pulls in the postgres one
        operators = {spec.operator for spec in requirement.specifier}
        assert "==" not in operators, f"{requirement}: pin it in constraints.txt instead"
        assert operators & {">=", "~="}, f"{requirement}: say the oldest release that works"
    for requirement in RUNTIME:
        if canonicalize_name(requirement.name) not in NO_UPPER_BOUND:
            operators = {spec.operator for spec in requirement.specifier}
            assert operators & {"<", "~="}, f"{requirement}: bound the next major release"


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line.strip())
            assert match, f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _tested_set() -> dict[str, str]:
    """Every distribution `paicha[test,dev]` needs, with the version installed here."""
    found: dict[str, str] = {}
    pending = [(r, set()) for r in RUNTIME]
    pending += [(r, {"test", "dev"}) for r in [*EXTRAS["test"], *EXTRAS["dev"]]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement, extras = pending.pop()
        env_extras = extras or {""}
        if requirement.marker and not any(
                requirement.marker.evaluate({"extra": e}) for e in env_extras):
            continue
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name == "paicha":
            wanted = set(requirement.extras)
            pending += [(r, wanted) for extra in wanted for r in EXTRAS[extra]]
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise AssertionError(f"{name} is not installed: install the tested set with "
                                 "pip install -c constraints.txt -e '.[test,dev]'") from None
        found[name] = dist.version
        pending += [(Requirement(line), set(requirement.extras)) for line in dist.requires or []]
    return found


def test_constraints_pin_exactly_the_tested_set() -> None:
    pins, tested = _constraints(), _tested_set()
    assert sorted(set(tested) - set(pins)) == [], "run .ci/freeze-constraints: not pinned"
    assert sorted(set(pins) - set(tested)) == [], "run .ci/freeze-constraints: pinned, unused"
    differ = {name: (pins[name], tested[name]) for name in tested if pins[name] != tested[name]}
    assert differ == {}, "installed differs from constraints.txt: pip install -c constraints.txt"
