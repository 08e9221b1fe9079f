"""engine.versions.diff: the case-type changes a migration must map (a state gone, a longer
sign-off chain, a clock re-timed), from two models of one campaign."""

from __future__ import annotations

import dataclasses

from engine import versions
from engine.model import Duration
from tests.unit.test_lifecycle import load_bundled


def test_a_state_gone_and_a_longer_chain_are_listed() -> None:
    old = load_bundled("special-action-2023")
    hazard = old.cases["hazard"]
    accept = next(t for t in hazard.transitions if t.signoffs)
    longer = dataclasses.replace(accept, signoffs=(*accept.signoffs, "safety_office"),
                                 steps=(*accept.steps, dataclasses.replace(
                                     accept.steps[-1], role="safety_office")))
    states = {k: v for k, v in hazard.states.items() if k != "supervised"}
    clocks = tuple(dataclasses.replace(c, remind=(Duration(3),)) for c in hazard.clocks[:1])
    new_type = dataclasses.replace(
        hazard, states=states, clocks=(*clocks, *hazard.clocks[1:]),
        transitions=tuple(longer if t.id == accept.id else t for t in hazard.transitions))
    new = dataclasses.replace(old, cases={**old.cases, "hazard": new_type})
    found = versions.diff(old, new)["cases"]["hazard"]
    assert found["states"] == {"added": [], "removed": ["supervised"]}
    assert found["signoffs"] == [{"transition": accept.id, "from": list(accept.signoffs),
                                  "to": [*accept.signoffs, "safety_office"]}]
    assert {"id": accept.id, "trigger": accept.trigger, "name": accept.name,
            "changed": ["signoffs", "steps"]} in found["transitions"]["changed"]
    assert [c["changed"] for c in found["clocks"]["changed"]] == [["remind"]]
    assert versions.diff(old, old)["cases"] == {}
