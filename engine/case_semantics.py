"""The semantic check of one case type's lifecycle: states, transitions, sign-off chains,
conditions on the case and its unit, and clocks (run by engine.semantics for each case type)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

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
            f"case type {self.name!r}",
        )
        p.known_each(self.case.get("who"), p.roles, [*path, "who"], "role")
        for key in as_list(self.case.get("required")):
            p.known(
                key,
                self.fields,
                [*path, "required", as_list(self.case["required"]).index(key)],
                "field",
                owner=f" of case type {self.name!r}",
            )
        for field_name, field in self.fields.items():
            if field_name == UNIT_KEY:
                p.report([*path, "fields", field_name],
                         "a case field may not be named 'unit': in conditions `unit:` tests "
                         "the case's unit", "name it otherwise, e.g. 'unit_name'", key=True)
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
                                f"label for {label!r}, which is not a value of the field",
                                did_you_mean(label, [str(e) for e in field["enum"]]),
                                key=True,
                            )
        if not self.states:
            return
        if not self.finals:
            p.report(
                [*path, "states"],
                f"case type {self.name!r} has no final state",
                "mark the closing state with `final: true`",
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
            transition, path, ["trigger", "from"], f"transition {transition.get('id', trigger)!r}"
        )
        p.known_each(transition.get("from"), self.states, [*path, "from"], "state")
        target = transition.get("to")
        p.known(target, self.states, [*path, "to"], "state")
        p.known_each(transition.get("who"), p.roles, [*path, "who"], "role")
        self._signoffs(transition, path)
        if "who" not in transition and "signoffs" not in transition:
            p.report(
                path,
                f"transition {trigger!r} says nobody may fire it",
                "add `who: <role>` or a `signoffs:` chain",
            )
        for index, field in enumerate(as_list(transition.get("requires"))):
            p.known(
                field,
                self.fields,
                [*path, "requires", index],
                "field",
                owner=f" of case type {self.name!r}",
            )
        requires = as_list(transition.get("requires"))
        for index, field in enumerate(as_list(transition.get("sets"))):
            where: Path = [*path, "sets", index]
            if not p.known(field, self.fields, where, "field",
                           owner=f" of case type {self.name!r}"):
                continue
            if field in requires:
                p.report(where, f"{field!r} is required already, which lets the event set it",
                         f"remove {field!r} from `sets`", severity="warning")
        if "same_signer" in transition and "signoffs" not in transition:
            p.report([*path, "same_signer"],
                     f"`same_signer` applies to sign-off chains; {trigger!r} has none",
                     "remove `same_signer` or add a `signoffs:` chain", key=True,
                     severity="warning")
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
                        f"final state {source!r} cannot be left "
                        f"(transition {trigger!r} leads to {target!r})",
                        "remove `final: true` from the state, or drop `to:` to make an "
                        "internal transition that records data only",
                    )
        elif "signoffs" in transition:
            p.report(
                path,
                f"sign-off chain {trigger!r} has no `to`",
                "a sign-off chain must lead to the state it approves",
            )

    def _signoffs(self, transition: dict[str, Any], path: Path) -> None:
        """A chain's steps (a role, or `{role, when, fields, required}`) and its signers' own
        fields (`signature`): kept with each signature, so never a case field's name."""
        p = self.p
        steps = transition.get("signoffs")
        shared = transition.get("signature")
        if shared is not None and steps is None:
            p.report([*path, "signature"], f"`signature` declares each signer's own fields; "
                     f"{transition.get('trigger')!r} has no `signoffs`",
                     "add a `signoffs:` chain, or declare the fields on the case type", key=True)
        shared_fields = self._own_fields(shared, [*path, "signature"])
        if not isinstance(steps, list):
            p.known_each(steps, p.roles, [*path, "signoffs"], "role")
            return
        if steps and all(isinstance(step, dict) and step.get("when") for step in steps):
            p.report([*path, "signoffs"], f"every step of {transition.get('trigger')!r} has a "
                     "`when`: a case for which none holds can never be signed",
                     "give at least one step no condition", severity="warning")
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
                              f"{name!r} is a field of case type {self.name!r}; a signer's own "
                              "field is kept with the signature and needs a name of its own",
                              f"rename it (e.g. '{name}_own'), or drop it here and list "
                              f"{name!r} under the transition's `requires`", key=True)
            if isinstance(field, dict):
                schema = {k: v for k, v in field.items() if k != "labels"}
                if schema.get("type") in ("date", "datetime"):
                    schema["type"] = "string"
                self.p.json_schema(schema, [*path, "fields", name])
        known = [*(shared or []), *names]
        for index, name in enumerate(as_list(owner.get("required"))):
            self.p.known(name, known, [*path, "required", index], "signature field",
                         owner=" of this sign-off")
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
                            f"{field!r} decides the condition of {deciding[field]!r}, and the "
                            f"unit-scoped role {who[0]!r} may set it through "
                            f"{transition.get('trigger')!r}",
                            "let an org-scoped role change it through a transition of its own "
                            "(a `regrade`)", severity="warning")

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
                    f"state {state!r} cannot be reached from {initial!r}",
                    "add a transition into it or remove the state",
                    key=True,
                )
            elif state not in self.finals and not (edges[state] - {state}):
                self.p.report(
                    path,
                    f"state {state!r} has no way out and is not final",
                    "add a transition out of it or mark it `final: true`",
                    key=True,
                )

    def _clock(self, clock: dict[str, Any], path: Path) -> None:
        p = self.p
        ident = clock.get("id")
        p.require(clock, path, ["name", "due"], f"clock {ident!r}")
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
                f"clock {ident!r} can never start",
                "add `runs_in: [states]` or `starts_on: {enter: state}`",
            )
        elif "starts_on" in clock and "runs_in" not in clock and "stops_on" not in clock:
            p.report(
                path,
                f"clock {ident!r} can never stop",
                "add `stops_on: {enter: state}` or `stops_on: {trigger: event}`",
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
                f"clock {ident!r} can never start: its states are unreachable",
                "run it in a state the case can reach",
            )
        if run_states and all(s in self.finals for s in run_states) and "stops_on" not in clock:
            p.report(
                [*path, "runs_in"],
                f"clock {ident!r} runs in final states only, so it never stops",
                "add `stops_on:`",
            )
        due = clock.get("due")
        if isinstance(due, dict):
            field = due.get("field")
            if p.known(
                field,
                self.fields,
                [*path, "due", "field"],
                "field",
                owner=f" of case type {self.name!r}",
            ) and isinstance(field, str):
                kind = (
                    self.fields[field].get("type") if isinstance(self.fields[field], dict) else None
                )
                if kind not in ("date", "datetime"):
                    p.report(
                        [*path, "due", "field"],
                        f"field {field!r} is not a date (type {kind})",
                        "give the field `type: date`",
                    )
            if "field" not in due and "after" not in due:
                p.report(
                    [*path, "due"],
                    "a clock's due needs `field` or `after`",
                    "write `due: {after: 3d}` or `due: {field: deadline}`",
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
                f"trigger {trigger!r} cannot fire from any state the clock runs "
                f"in ({', '.join(run_states)})",
                f"add one of them to the `from:` of {trigger!r}",
                severity="warning",
            )
