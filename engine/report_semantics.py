"""Checks the reports and targets of a campaign document for meaning: rows and their figures,
the forms of a report per org level, what a measure counts (whose figure a case is, which
period), and goals (a bound, a percentage or a comparison with another measure).

Runs inside SemanticChecker on documents that may also have schema errors: a part of the
wrong shape is skipped here (the schema already reported it), never a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from engine.document import format_path

if TYPE_CHECKING:
    from engine.semantics import SemanticChecker

Path = list[str | int]

MEASURES = ("count", "sum", "count_units", "count_checks")
CASE_MEASURES = ("count", "sum", "count_units")
COMPARISONS: tuple[Literal["lt", "lte", "gt", "gte"], ...] = ("lt", "lte", "gt", "gte")
_ROW_KINDS = (*MEASURES, "manual", "figures")
_FIGURE_KINDS = (*MEASURES, "manual")


class ReportChecker:
    """The `reports` and `targets` of one resolved document."""

    def __init__(self, parent: SemanticChecker) -> None:
        self.p = parent

    def run(self) -> None:
        self._reports()
        self._targets()

    # -- reports ---------------------------------------------------------------------------

    def _reports(self) -> None:
        reports = self.p.doc.get("reports")
        if not isinstance(reports, dict):
            return
        for name, report in reports.items():
            if not isinstance(report, dict):
                continue
            path: Path = ["reports", name]
            self.p.require(report, path, ["name", "sections"], f"report {name!r}")
            self.sections(report.get("sections"), [*path, "sections"])
            variants = report.get("variants")
            if isinstance(variants, list):
                self._variants(variants, [*path, "variants"])

    def sections(self, sections: Any, path: Path) -> None:
        """A form's sections: ids unique, row ids unique across the form, every row checked."""
        if not isinstance(sections, list):
            return
        self.p.duplicate_ids(sections, path, "section")
        seen: dict[str, Path] = {}
        for s_index, section in enumerate(sections):
            rows = section.get("rows") if isinstance(section, dict) else None
            if not isinstance(rows, list):
                continue
            for r_index, row in enumerate(rows):
                if not isinstance(row, dict):
                    continue
                row_path: Path = [*path, s_index, "rows", r_index]
                ident = row.get("id")
                if isinstance(ident, str):
                    if ident in seen:
                        self.p.report(
                            [*row_path, "id"],
                            f"duplicate row id {ident!r}",
                            f"already used at {format_path(seen[ident])}",
                        )
                    seen[ident] = row_path
                self.row(row, row_path)

    def row(self, row: dict[str, Any], path: Path) -> None:
        p = self.p
        ident = row.get("id")
        p.require(row, path, ["name"], f"row {ident!r}")
        kinds = [k for k in _ROW_KINDS if k in row]
        if len(kinds) != 1:
            p.report(
                path,
                f"row {ident!r} needs exactly one of count, sum, count_units, count_checks, "
                f"manual, figures (has {', '.join(kinds) or 'none'})",
                "rows the system cannot derive are `manual: integer`; a row of several "
                "figures lists each under `figures:`",
            )
            return
        if "parts" in row and "manual" not in row:
            p.report(
                [*path, "parts"],
                "`parts` applies only to manual rows",
                "remove `parts` or make the row manual; figures of different kinds go under "
                "`figures:`",
            )
        if "figures" not in row:
            self.measure(row, path)
            return
        for key in ("where", "attribute", "within"):
            if key in row:
                p.report(
                    [*path, key],
                    f"`{key}` on a row of figures applies to none of them",
                    f"write `{key}` in each figure it is for",
                    key=True,
                )
        figures = row["figures"]
        if not isinstance(figures, list):
            return
        for index, figure in enumerate(figures):
            if isinstance(figure, dict):
                self._figure(figure, [*path, "figures", index], ident)

    def _figure(self, figure: dict[str, Any], path: Path, row_id: Any) -> None:
        kinds = [k for k in _FIGURE_KINDS if k in figure]
        if len(kinds) != 1:
            self.p.report(
                path,
                f"figure {figure.get('name')!r} of row {row_id!r} needs exactly one of count, "
                f"sum, count_units, count_checks, manual (has {', '.join(kinds) or 'none'})",
                "a figure the system cannot derive is `manual: integer` or `manual: number`",
            )
            return
        self.measure(figure, path)

    def _variants(self, variants: list[Any], path: Path) -> None:
        """Each variant names declared org levels, none filed by two variants."""
        p = self.p
        owner: dict[str, int] = {}
        for index, variant in enumerate(variants):
            if not isinstance(variant, dict):
                continue
            sub: Path = [*path, index]
            levels = variant.get("levels")
            for l_index, level in enumerate(levels if isinstance(levels, list) else []):
                where: Path = [*sub, "levels", l_index]
                if not isinstance(level, str):
                    continue
                if not p.levels:
                    p.report(where, f"unknown org level {level!r}: the campaign declares none",
                             f"declare it under `org_levels:` ({level}: {{name: …}})")
                    continue
                if not p.known(level, p.levels, where, "org level"):
                    continue
                if level in owner:
                    p.report(
                        where,
                        f"org level {level!r} already files variant "
                        f"{format_path([*path, owner[level]])}",
                        "an org files one form: keep the level in one variant",
                    )
                else:
                    owner[level] = index
            self.sections(variant.get("sections"), [*sub, "sections"])

    # -- measures --------------------------------------------------------------------------

    def measure(self, item: dict[str, Any], path: Path) -> None:
        """What a row, figure or target counts: its case type or check, field, filter, and
        whose figure and which period it is."""
        p = self.p
        if "manual" in item:
            for key, why in (("attribute", "whose figure a case is"),
                             ("within", "which cases or obligations are counted")):
                if key in item:
                    p.report(
                        [*path, key],
                        f"`{key}` says {why}; a manual figure is what the org enters",
                        f"remove `{key}`, or count the figure from the record",
                        key=True,
                    )
            return
        case_name: Any = None
        if "count" in item:
            case_name = item["count"]
            p.known(case_name, p.cases, [*path, "count"], "case type")
        elif "count_units" in item:
            case_name = item["count_units"]
            p.known(case_name, p.cases, [*path, "count_units"], "case type")
        elif isinstance(item.get("sum"), dict):
            case_name = item["sum"].get("case")
            if p.known(case_name, p.cases, [*path, "sum", "case"], "case type"):
                self._summed_field(case_name, item["sum"].get("field"), [*path, "sum", "field"])
        elif isinstance(item.get("count_checks"), dict):
            p.known(
                item["count_checks"].get("check"),
                p.check_ids,
                [*path, "count_checks", "check"],
                "check",
            )
            if "where" in item:
                p.report(
                    [*path, "where"],
                    "`where` filters cases, not checks",
                    "remove `where` or count cases",
                )
            if "attribute" in item:
                p.report(
                    [*path, "attribute"],
                    "`attribute` applies to case measures (count, sum, count_units), not to "
                    "count_checks",
                    "remove `attribute`: an obligation counts for the org or unit it is due "
                    "from",
                    key=True,
                )
            return
        if "where" in item and isinstance(case_name, str) and case_name in p.cases:
            p.condition(item["where"], [*path, "where"], case_name, reserved=True)

    def _summed_field(self, case_name: str, field: Any, path: Path) -> None:
        p = self.p
        fields = p.case_fields(case_name)
        if not p.known(field, fields, path, "field", owner=f" of case type {case_name!r}"):
            return
        spec = fields.get(field) if isinstance(field, str) else None
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and kind not in ("integer", "number"):
            p.report(
                path,
                f"field {field!r} is {kind or 'untyped'}, not a number",
                "sum a field of `type: number` or `type: integer`",
            )

    # -- targets ---------------------------------------------------------------------------

    def _targets(self) -> None:
        p = self.p
        targets = p.doc.get("targets")
        if not isinstance(targets, list):
            return
        p.duplicate_ids(targets, ["targets"], "target")
        for index, target in enumerate(targets):
            if not isinstance(target, dict):
                continue
            path: Path = ["targets", index]
            p.require(
                target, path, ["name", "by", "measure", "goal"], f"target {target.get('id')!r}"
            )
            p.in_period(target.get("by"), [*path, "by"], "target date")
            for key in ("measure", "per"):
                if isinstance(target.get(key), dict):
                    self._target_measure(target[key], [*path, key])
            if isinstance(target.get("goal"), dict):
                self._goal(target, target["goal"], path)

    def _target_measure(self, measure: dict[str, Any], path: Path) -> None:
        self.measure(measure, path)
        if measure.get("within") == "period":
            self.p.report(
                [*path, "within"],
                "a target counts up to its date `by`; `within: period` applies to report rows",
                "remove `within` and filter the cases by date in `where` "
                "(reported_after: YYYY-MM-DD, or a date field with {gte: YYYY-MM-DD})",
                key=True,
            )

    def _goal(self, target: dict[str, Any], goal: dict[str, Any], path: Path) -> None:
        p = self.p
        where: Path = [*path, "goal"]
        ops = [k for k in COMPARISONS if k in goal]
        bounds = [k for k in ("max", "min") if k in goal]
        if not goal:
            p.report(
                where,
                f"target {target.get('id')!r} has an empty goal",
                "write a bound (`{max: 0}`, `{min: 95}`) or a comparison with another "
                "measure (`{lt: {count: hazard, where: …}}`)",
            )
            return
        if len(ops) > 1:
            p.report(
                [*where, ops[1]],
                f"a goal compares with one measure; this one has {', '.join(ops)}",
                "keep one of lt, lte, gt, gte; for two comparisons write two targets",
                key=True,
            )
        if ops and bounds:
            p.report(
                [*where, ops[0]],
                f"the goal mixes a bound ({', '.join(bounds)}) with a comparison ({ops[0]})",
                "a goal is either a bound ({max: N}, {min: N}) or one comparison "
                "({lt: <measure>}); write two targets for both",
                key=True,
            )
        if ops and "per" in target:
            p.report(
                [*path, "per"],
                f"`per` makes the target a percentage, which the comparison `{ops[0]}` "
                "does not take",
                "remove `per`, or bound the percentage: `goal: {min: 95}`",
                key=True,
            )
        for op in ops:
            if isinstance(goal[op], dict):
                self._target_measure(goal[op], [*where, op])
