"""Checks the reports and targets of a campaign document for meaning: rows and their figures,
the forms of a report per org level, what a measure counts (whose figure a case is, which
period), and goals (a bound, a percentage or a comparison with another measure).

Runs inside SemanticChecker on documents that may also have schema errors: a part of the
wrong shape is skipped here (the schema already reported it), never a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from engine import texts
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
            self.p.require(report, path, ["name", "sections"],
                           texts.t("semantics.named.report", name=name))
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
                            texts.t("semantics.report.duplicate_row", id=ident),
                            texts.t("semantics.report.duplicate_row.hint",
                                    path=format_path(seen[ident])),
                        )
                    seen[ident] = row_path
                self.row(row, row_path)

    def row(self, row: dict[str, Any], path: Path) -> None:
        p = self.p
        ident = row.get("id")
        p.require(row, path, ["name"], texts.t("semantics.named.row", name=ident))
        kinds = [k for k in _ROW_KINDS if k in row]
        if len(kinds) != 1:
            p.report(
                path,
                texts.t("semantics.report.row_kinds", row=ident, has=self._has(kinds)),
                texts.t("semantics.report.row_kinds.hint"),
            )
            return
        if "parts" in row and "manual" not in row:
            p.report(
                [*path, "parts"],
                texts.t("semantics.report.parts_not_manual"),
                texts.t("semantics.report.parts_not_manual.hint"),
                must_go=True,
            )
        if "figures" not in row:
            self.measure(row, path)
            return
        for key in ("where", "attribute", "within"):
            if key in row:
                p.report(
                    [*path, key],
                    texts.t("semantics.report.key_on_figures_row", key=key),
                    texts.t("semantics.report.key_on_figures_row.hint", key=key),
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
                texts.t("semantics.report.figure_kinds", figure=figure.get("name"),
                        row=row_id, has=self._has(kinds)),
                texts.t("semantics.report.figure_kinds.hint"),
            )
            return
        self.measure(figure, path)

    @staticmethod
    def _has(kinds: list[str]) -> str:
        """The measures an item has, listed; `none` when it has none."""
        return texts.listed(kinds) or texts.t("semantics.report.none")

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
                    p.report(where, texts.t("semantics.report.no_levels", level=level),
                             texts.t("semantics.report.no_levels.hint", level=level))
                    continue
                if not p.known(level, p.levels, where, "org level"):
                    continue
                if level in owner:
                    p.report(
                        where,
                        texts.t("semantics.report.level_twice", level=level,
                                variant=format_path([*path, owner[level]])),
                        texts.t("semantics.report.level_twice.hint"),
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
            for key in ("attribute", "within"):
                if key in item:
                    p.report(
                        [*path, key],
                        texts.t(f"semantics.report.{key}_on_manual"),
                        texts.t("semantics.report.key_on_manual.hint", key=key),
                        key=True,
                        must_go=True,
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
                    texts.t("semantics.report.where_on_checks"),
                    texts.t("semantics.report.where_on_checks.hint"),
                    must_go=True,
                )
            if "attribute" in item:
                p.report(
                    [*path, "attribute"],
                    texts.t("semantics.report.attribute_on_checks"),
                    texts.t("semantics.report.attribute_on_checks.hint"),
                    key=True,
                    must_go=True,
                )
            return
        if "where" in item and isinstance(case_name, str) and case_name in p.cases:
            p.condition(item["where"], [*path, "where"], case_name, reserved=True)

    def _summed_field(self, case_name: str, field: Any, path: Path) -> None:
        p = self.p
        fields = p.case_fields(case_name)
        if not p.known(field, fields, path, "field",
                       owner=texts.t("semantics.owner.case_type", case=case_name)):
            return
        spec = fields.get(field) if isinstance(field, str) else None
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and kind not in ("integer", "number"):
            p.report(
                path,
                texts.t("semantics.report.sum_not_number", field=field,
                        kind=kind or texts.t("semantics.report.untyped")),
                texts.t("semantics.report.sum_not_number.hint"),
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
                target, path, ["name", "by", "measure", "goal"],
                texts.t("semantics.named.target", name=target.get("id")),
            )
            p.in_period(target.get("by"), [*path, "by"], "target_date")
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
                texts.t("semantics.target.within_period"),
                texts.t("semantics.target.within_period.hint"),
                key=True,
                must_go=True,
            )

    def _goal(self, target: dict[str, Any], goal: dict[str, Any], path: Path) -> None:
        p = self.p
        where: Path = [*path, "goal"]
        ops = [k for k in COMPARISONS if k in goal]
        bounds = [k for k in ("max", "min") if k in goal]
        if not goal:
            p.report(
                where,
                texts.t("semantics.target.empty_goal", target=target.get("id")),
                texts.t("semantics.target.empty_goal.hint"),
            )
            return
        if len(ops) > 1:
            p.report(
                [*where, ops[1]],
                texts.t("semantics.target.two_comparisons",
                        ops=texts.listed(ops)),
                texts.t("semantics.target.two_comparisons.hint"),
                key=True,
            )
        if ops and bounds:
            p.report(
                [*where, ops[0]],
                texts.t("semantics.target.bound_and_comparison",
                        bounds=texts.listed(bounds), op=ops[0]),
                texts.t("semantics.target.bound_and_comparison.hint"),
                key=True,
            )
        if ops and "per" in target:
            p.report(
                [*path, "per"],
                texts.t("semantics.target.per_with_comparison", op=ops[0]),
                texts.t("semantics.target.per_with_comparison.hint"),
                key=True,
                must_go=True,
            )
        for op in ops:
            if isinstance(goal[op], dict):
                self._target_measure(goal[op], [*where, op])
