"""Mermaid state diagrams of case lifecycles, for documents and review."""

from __future__ import annotations

from engine.model import Campaign, CaseType


def _label(text: str) -> str:
    return text.replace('"', "'").replace(":", "：")


def mermaid(campaign: Campaign, case_type: CaseType) -> str:
    """A `stateDiagram-v2` of one case type: states by name, transitions with roles and rules."""
    roles = campaign.roles
    lines = ["stateDiagram-v2", f"    %% {campaign.title}: {case_type.name}"]
    for state in case_type.states.values():
        lines.append(f'    {state.id}: {_label(state.name)}')
    lines.append(f"    [*] --> {case_type.initial}")
    for transition in case_type.transitions:
        who = transition.signoffs or transition.who
        names = [roles[r].name if r in roles else r for r in who]
        if transition.signoffs:  # a step taken only for some cases or units: （条件）
            names = [name + ("（条件）" if step.when else "")
                     for name, step in zip(names, transition.chain, strict=True)]
        joiner = " → " if transition.signoffs else " / "
        label = _label(transition.name)
        if names:
            label += f" ({_label(joiner.join(names))})"
        if transition.when:
            label += " [条件]"
        if transition.requires:
            label += f" [必填{len(transition.requires)}项]"
        for source in transition.sources:
            target = transition.target or source
            lines.append(f"    {source} --> {target}: {label}")
    for state in case_type.states.values():
        if state.final:
            lines.append(f"    {state.id} --> [*]")
    for clock in case_type.clocks:
        if clock.runs_in:
            lines.append(f"    note right of {clock.runs_in[0]}: ⏰ {_label(clock.name)}")
    return "\n".join(lines) + "\n"
