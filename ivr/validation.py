"""Checks of a whole flow that no single field can make: reachability and prompt-less loops."""

from django.utils.translation import gettext as _

from .models import Step
from .selectors import FlowSnapshot, StepSnapshot

Kind = Step.Kind


def _targets(step: StepSnapshot) -> list[int]:
    """Every step this one can lead to."""
    ids = [step.next_id, step.no_input_id, step.open_id, step.closed_id, *step.options.values()]
    return [i for i in ids if i is not None]


def _chained(step: StepSnapshot, flow: FlowSnapshot) -> list[int]:
    """Steps rendered right after this one without waiting for the caller."""
    if step.kind == Kind.SAY:
        ids = [step.next_id]
    elif step.kind == Kind.HOURS:
        ids = [step.open_id, step.closed_id]
    elif step.kind == Kind.GOTO and step.goto_flow_id == flow.id:
        ids = [flow.start_id]
    else:  # menus, queues, voicemail and dial wait for the caller (or end the call)
        ids = []
    return [i for i in ids if i is not None and i in flow.steps]


def unreachable_steps(flow: FlowSnapshot) -> list[StepSnapshot]:
    seen: set[int] = set()
    todo = [flow.start_id] if flow.start_id in flow.steps else []
    while todo:
        step_id = todo.pop()
        if step_id in seen or step_id not in flow.steps:
            continue
        seen.add(step_id)
        todo.extend(_targets(flow.steps[step_id]))
    return [step for step_id, step in sorted(flow.steps.items()) if step_id not in seen]


def promptless_loops(flow: FlowSnapshot) -> list[list[StepSnapshot]]:
    """Cycles of steps that chain into each other without ever waiting for the caller."""
    loops, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(step_id: int, path: list[int]) -> None:
        state[step_id] = 1
        path.append(step_id)
        for nxt in _chained(flow.steps[step_id], flow):
            if state.get(nxt) == 1:
                loops.append([flow.steps[i] for i in path[path.index(nxt) :]])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[step_id] = 2

    for step_id in sorted(flow.steps):
        if step_id not in state:
            visit(step_id, [])
    return loops


def flow_warnings(flow: FlowSnapshot) -> list[str]:
    warnings = []
    if flow.start_id is None:
        warnings.append(_("The flow has no start step: calls to its numbers hear the apology."))
    unreachable = unreachable_steps(flow)
    if unreachable and flow.start_id is not None:
        warnings.append(
            _("No call can reach these steps: %(steps)s.")
            % {"steps": ", ".join(s.name for s in unreachable)}
        )
    for loop in promptless_loops(flow):
        names = " → ".join(s.name for s in [*loop, loop[0]])
        warnings.append(
            _("These steps loop without ever waiting for the caller: %(loop)s.") % {"loop": names}
        )
    return warnings
