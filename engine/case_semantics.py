"""The semantic check of one case type's lifecycle: states, transitions, sign-off chains,
conditions on the case and its unit, and clocks (run by engine.semantics for each case type)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from engine import texts
from engine.conditions import UNIT_KEY
from engine.schema import did_you_mean
from engine.values import as_list, condition_fields

if TYPE_CHECKING:
    from engine.semantics import Path, SemanticChecker


class CaseTypeChecker:
    """The lifecycle of one case type: states, transitions, clocks."""

    def __init__(self, parent: SemanticChecker, name: str, case: dict[str, Any]) -> None:
        self.p = parent
        self.name = name
        self.case = case
        self.path: Path = ["cases", name]
        states = case.get("states")
        self.states: dict[str, Any] = states if isinstance(states, dict) else {}
        self.finals = {s for s, v in self.states.items() if isinstance(v, dict) and v.get("final")}
        self.fields = parent.case_fields(name)
        transitions = case.get("transitions")
        self.transitions: list[Any] = transitions if isinstance(transitions, list) else []
        self.reachable: set[str] = set()
        self.owner = texts.t("semantics.owner.case_type", case=name)
        self.triggers: set[str] = {
            t["trigger"]
            for t in self.transitions
            if isinstance(t, dict) and isinstance(t.get("trigger"), str)
        }

    def run(self) -> None:
        p, path = self.p, self.path
        p.require(
            self.case,
            path,
            ["name", "initial", "states", "transitions"],
            texts.t("semantics.named.case_type", name=self.name),
        )
        p.known_each(self.case.get("who"), p.roles, [*path, "who"], "role")
        for key in as_list(self.case.get("required")):
            p.known(
                key,
                self.fields,
                [*path, "required", as_list(self.case["required"]).index(key)],
                "field",
                owner=self.owner,
            )
        for field_name, field in self.fields.items():
            if field_name == UNIT_KEY:
                p.report([*path, "fields", field_name],
                         texts.t("semantics.case.field_named_unit"),
                         texts.t("semantics.case.field_named_unit.hint"), key=True)
            if isinstance(field, dict):
                schema = {k: v for k, v in field.items() if k not in ("labels", "remove")}
                if schema.get("type") in ("date", "datetime"):
                    schema["type"] = "string"
                p.json_schema(schema, [*path, "fields", field_name])
                labels = field.get("labels")
                if isinstance(labels, dict) and isinstance(field.get("enum"), list):
                    for label in labels:
                        if label not in field["enum"]:
                            p.report(
                                [*path, "fields", field_name, "labels", label],
                                texts.t("semantics.case.label_not_in_enum", label=label),
                                did_you_mean(label, [str(e) for e in field["enum"]]),
                                key=True,
                            )
        if not self.states:
            return
        if not self.finals:
            p.report(
                [*path, "states"],
                texts.t("semantics.case.no_final", case=self.name),
                texts.t("semantics.case.no_final.hint"),
            )
        initial = self.case.get("initial")
        p.known(initial, self.states, [*path, "initial"], "state")
        p.duplicate_ids(self.transitions, [*path, "transitions"], "transition")
        for index, transition in enumerate(self.transitions):
            if isinstance(transition, dict):
                self._transition(transition, [*path, "transitions", index])
        self._unit_set_conditions()
        if isinstance(initial, str) and initial in self.states:
            self._reachability(initial)
        clocks = self.case.get("clocks")
        if isinstance(clocks, list):
            p.duplicate_ids(clocks, [*path, "clocks"], "clock")
            for index, clock in enumerate(clocks):
                if isinstance(clock, dict):
                    self._clock(clock, [*path, "clocks", index])

    def sources(self, transition: dict[str, Any]) -> list[str]:
        return [s for s in as_list(transition.get("from")) if isinstance(s, str)]

    def _transition(self, transition: dict[str, Any], path: Path) -> None:
        p = self.p
        trigger = transition.get("trigger")
        p.require(
            transition, path, ["trigger", "from"],
            texts.t("semantics.named.transition", name=transition.get("id", trigger)),
        )
        p.known_each(transition.get("from"), self.states, [*path, "from"], "state")
        target = transition.get("to")
        p.known(target, self.states, [*path, "to"], "state")
        p.known_each(transition.get("who"), p.roles, [*path, "who"], "role")
        self._signoffs(transition, path)
        if "who" not in transition and "signoffs" not in transition:
            p.report(
                path,
                texts.t("semantics.transition.nobody", trigger=trigger),
                texts.t("semantics.transition.nobody.hint"),
            )
        for index, field in enumerate(as_list(transition.get("requires"))):
            p.known(
                field,
                self.fields,
                [*path, "requires", index],
                "field",
                owner=self.owner,
            )
        requires = as_list(transition.get("requires"))
        for index, field in enumerate(as_list(transition.get("sets"))):
            where: Path = [*path, "sets", index]
            if not p.known(field, self.fields, where, "field", owner=self.owner):
                continue
            if field in requires:
                p.report(where, texts.t("semantics.transition.sets_required", field=field),
                         texts.t("semantics.transition.sets_required.hint", field=field),
                         severity="warning")
        if "same_signer" in transition and "signoffs" not in transition:
            p.report([*path, "same_signer"],
                     texts.t("semantics.transition.same_signer", trigger=trigger),
                     texts.t("semantics.transition.same_signer.hint"), key=True,
                     severity="warning", must_go=True)
        p.condition(transition.get("when"), [*path, "when"], self.name, reserved=False)
        if target is not None:
            for index, source in enumerate(as_list(transition.get("from"))):
                if source in self.finals and source != target:
                    where = (
                        [*path, "from", index]
                        if isinstance(transition["from"], list)
                        else [*path, "from"]
                    )
                    p.report(
                        where,
                        texts.t("semantics.transition.leaves_final", source=source,
                                trigger=trigger, target=target),
                        texts.t("semantics.transition.leaves_final.hint"),
                        must_go=True,
                    )
        elif "signoffs" in transition:
            p.report(
                path,
                texts.t("semantics.signoff.no_to", trigger=trigger),
                texts.t("semantics.signoff.no_to.hint"),
            )

    def _signoffs(self, transition: dict[str, Any], path: Path) -> None:
        """A chain's steps (a role, or `{role, when, fields, required}`) and its signers' own
        fields (`signature`): kept with each signature, so never a case field's name."""
        p = self.p
        steps = transition.get("signoffs")
        shared = transition.get("signature")
        if shared is not None and steps is None:
            p.report([*path, "signature"],
                     texts.t("semantics.signoff.signature_without_chain",
                             trigger=transition.get("trigger")),
                     texts.t("semantics.signoff.signature_without_chain.hint"), key=True)
        shared_fields = self._own_fields(shared, [*path, "signature"])
        if not isinstance(steps, list):
            p.known_each(steps, p.roles, [*path, "signoffs"], "role")
            return
        if steps and all(isinstance(step, dict) and step.get("when") for step in steps):
            p.report([*path, "signoffs"],
                     texts.t("semantics.signoff.all_conditional",
                             trigger=transition.get("trigger")),
                     texts.t("semantics.signoff.all_conditional.hint"), severity="warning")
        for index, step in enumerate(steps):
            where: Path = [*path, "signoffs", index]
            if not isinstance(step, dict):
                p.known(step, p.roles, where, "role")
                continue
            p.known(step.get("role"), p.roles, [*where, "role"], "role")
            p.condition(step.get("when"), [*where, "when"], self.name, reserved=False)
            self._own_fields(step, where, shared_fields)

    def _own_fields(self, owner: Any, path: Path, shared: list[str] | None = None) -> list[str]:
        """Check a `signature` (or a step's) `fields` and `required`; the field names."""
        if not isinstance(owner, dict):
            return []
        found = owner.get("fields")
        fields: dict[str, Any] = found if isinstance(found, dict) else {}
        names = [n for n in fields if isinstance(n, str)]
        for name in names:
            field = fields[name]
            if name in self.fields:
                self.p.report([*path, "fields", name],
                              texts.t("semantics.signoff.own_field_is_case_field", field=name,
                                      case=self.name),
                              texts.t("semantics.signoff.own_field_is_case_field.hint",
                                      field=name), key=True)
            if isinstance(field, dict):
                schema = {k: v for k, v in field.items() if k != "labels"}
                if schema.get("type") in ("date", "datetime"):
                    schema["type"] = "string"
                self.p.json_schema(schema, [*path, "fields", name])
        known = [*(shared or []), *names]
        for index, name in enumerate(as_list(owner.get("required"))):
            self.p.known(name, known, [*path, "required", index], "signature field",
                         owner=texts.t("semantics.owner.signoff"))
        return known

    def _unit_set_conditions(self) -> None:
        """Warn where a unit-scoped role (an enterprise) may set a field that decides a
        condition: the unit would choose its own path (a major hazard re-graded as general
        to close with one signature)."""
        deciding: dict[str, str] = {}
        for transition in self.transitions:
            if isinstance(transition, dict):
                steps = [s for s in as_list(transition.get("signoffs")) if isinstance(s, dict)]
                for part in [transition.get("when"), *(s.get("when") for s in steps)]:
                    for name in condition_fields(part):
                        deciding.setdefault(name, str(transition.get("trigger")))
        if not deciding:
            return
        roles = self.p.doc.get("roles")
        unit_roles = {r for r, v in roles.items() if isinstance(v, dict)
                      and v.get("scope") == "unit"} if isinstance(roles, dict) else set()
        for index, transition in enumerate(self.transitions):
            if not isinstance(transition, dict):
                continue
            signers = [s.get("role") if isinstance(s, dict) else s
                       for s in as_list(transition.get("signoffs"))]
            who = [r for r in as_list(transition.get("who")) + signers if r in unit_roles]
            if not who:
                continue
            for key in ("requires", "sets"):
                for position, field in enumerate(as_list(transition.get(key))):
                    if field in deciding:
                        self.p.report(
                            [*self.path, "transitions", index, key, position],
                            texts.t("semantics.case.unit_sets_condition", field=field,
                                    decides=deciding[field], role=who[0],
                                    trigger=transition.get("trigger")),
                            texts.t("semantics.case.unit_sets_condition.hint"),
                            severity="warning")

    def _reachability(self, initial: str) -> None:
        edges: dict[str, set[str]] = {s: set() for s in self.states}
        for transition in self.transitions:
            if not isinstance(transition, dict) or not isinstance(transition.get("to"), str):
                continue
            for source in self.sources(transition):
                if source in edges and transition["to"] in self.states:
                    edges[source].add(transition["to"])
        reached = {initial}
        queue = deque([initial])
        while queue:
            for nxt in edges[queue.popleft()]:
                if nxt not in reached:
                    reached.add(nxt)
                    queue.append(nxt)
        self.reachable = reached
        for state in self.states:
            path: Path = [*self.path, "states", state]
            if state not in reached:
                self.p.report(
                    path,
                    texts.t("semantics.case.unreachable", state=state, initial=initial),
                    texts.t("semantics.case.unreachable.hint"),
                    key=True,
                )
            elif state not in self.finals and not (edges[state] - {state}):
                self.p.report(
                    path,
                    texts.t("semantics.case.dead_end", state=state),
                    texts.t("semantics.case.dead_end.hint"),
                    key=True,
                )

    def _clock(self, clock: dict[str, Any], path: Path) -> None:
        p = self.p
        ident = clock.get("id")
        p.require(clock, path, ["name", "due"], texts.t("semantics.named.clock", name=ident))
        p.known_each(clock.get("runs_in"), self.states, [*path, "runs_in"], "state")
        p.known_each(clock.get("who"), p.roles, [*path, "who"], "role")
        p.condition(clock.get("when"), [*path, "when"], self.name, reserved=False)
        for key in ("starts_on", "stops_on"):
            event = clock.get(key)
            if isinstance(event, dict):
                p.known_each(event.get("enter"), self.states, [*path, key, "enter"], "state")
                p.known_each(
                    event.get("trigger"), self.triggers, [*path, key, "trigger"], "trigger"
                )
        if "runs_in" not in clock and "starts_on" not in clock:
            p.report(
                path,
                texts.t("semantics.clock.never_starts", clock=ident),
                texts.t("semantics.clock.never_starts.hint"),
            )
        elif "starts_on" in clock and "runs_in" not in clock and "stops_on" not in clock:
            p.report(
                path,
                texts.t("semantics.clock.never_stops", clock=ident),
                texts.t("semantics.clock.never_stops.hint"),
            )
        reachable = self.reachable or set(self.states)
        run_states = [s for s in as_list(clock.get("runs_in")) if s in self.states]
        starts_on = clock.get("starts_on")
        starts: dict[str, Any] = starts_on if isinstance(starts_on, dict) else {}
        start_states = [s for s in as_list(starts.get("enter")) if s in self.states]
        candidates = run_states + start_states
        if candidates and not any(s in reachable for s in candidates) and not starts.get("trigger"):
            p.report(
                path,
                texts.t("semantics.clock.unreachable", clock=ident),
                texts.t("semantics.clock.unreachable.hint"),
            )
        if run_states and all(s in self.finals for s in run_states) and "stops_on" not in clock:
            p.report(
                [*path, "runs_in"],
                texts.t("semantics.clock.final_only", clock=ident),
                texts.t("semantics.clock.final_only.hint"),
            )
        due = clock.get("due")
        if isinstance(due, dict):
            field = due.get("field")
            if p.known(
                field,
                self.fields,
                [*path, "due", "field"],
                "field",
                owner=self.owner,
            ) and isinstance(field, str):
                kind = (
                    self.fields[field].get("type") if isinstance(self.fields[field], dict) else None
                )
                if kind not in ("date", "datetime"):
                    p.report(
                        [*path, "due", "field"],
                        texts.t("semantics.clock.due_not_date", field=field, kind=kind),
                        texts.t("semantics.clock.due_not_date.hint"),
                    )
            if "field" not in due and "after" not in due:
                p.report(
                    [*path, "due"],
                    texts.t("semantics.clock.due_empty"),
                    texts.t("semantics.clock.due_empty.hint"),
                )
        overdue = clock.get("overdue")
        if isinstance(overdue, dict):
            p.known_each(overdue.get("notify"), p.roles, [*path, "overdue", "notify"], "role")
            self._fire(overdue.get("fire"), [*path, "overdue", "fire"], run_states)
            for index, step in enumerate(as_list(overdue.get("escalate"))):
                if isinstance(step, dict):
                    sub: Path = [*path, "overdue", "escalate", index]
                    p.known_each(step.get("notify"), p.roles, [*sub, "notify"], "role")
                    self._fire(step.get("fire"), [*sub, "fire"], run_states)

    def _fire(self, trigger: Any, path: Path, run_states: list[str]) -> None:
        if not self.p.known(trigger, self.triggers, path, "trigger") or not isinstance(
            trigger, str
        ):
            return
        if not run_states:
            return
        sources = {
            s
            for t in self.transitions
            if isinstance(t, dict) and t.get("trigger") == trigger
            for s in self.sources(t)
        }
        if not sources & set(run_states):
            self.p.report(
                path,
                texts.t("semantics.clock.fire_unreachable", trigger=trigger,
                        states=texts.listed(run_states)),
                texts.t("semantics.clock.fire_unreachable.hint", trigger=trigger),
                severity="warning",
            )
