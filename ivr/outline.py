"""A flow as a readable tree: what each step says, which key leads where."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from queues.models import Queue

from .models import Flow, Step
from .selectors import FlowSnapshot, StepSnapshot
from .validation import unreachable_steps

Kind = Step.Kind


@dataclass
class Branch:
    label: str
    node: "Node | None" = None
    ref: str = ""  # a step already shown above (or a hang-up when empty and node is None)


@dataclass
class Node:
    step: StepSnapshot
    kind_label: str
    summary: str
    branches: list[Branch] = field(default_factory=list)


class _Builder:
    def __init__(self, flow: FlowSnapshot):
        self.flow = flow
        self.shown: set[int] = set()
        queue_ids = {s.queue_id for s in flow.steps.values() if s.queue_id}
        flow_ids = {s.goto_flow_id for s in flow.steps.values() if s.goto_flow_id}
        self.queues = dict(Queue.objects.filter(pk__in=queue_ids).values_list("pk", "name"))
        self.flows = dict(Flow.objects.filter(pk__in=flow_ids).values_list("pk", "name"))

    def summary(self, step: StepSnapshot) -> str:
        if step.kind == Kind.QUEUE:
            return _("into queue %(queue)s") % {"queue": self.queues.get(step.queue_id, "?")}
        if step.kind == Kind.HOURS:
            name = step.schedule.name if step.schedule else "?"
            return _("check business hours %(schedule)s") % {"schedule": name}
        if step.kind == Kind.DIAL:
            return _("forward to %(number)s, ring %(seconds)d s") % {
                "number": step.dial_number,
                "seconds": step.timeout,
            }
        if step.kind == Kind.GOTO:
            return _("go to flow %(flow)s") % {"flow": self.flows.get(step.goto_flow_id, "?")}
        if step.kind == Kind.VOICEMAIL:
            prompt = step.text or step.audio_url
            return _("%(prompt)s (records up to %(seconds)d s)") % {
                "prompt": prompt,
                "seconds": step.max_length,
            }
        return step.text or step.audio_url

    def branch(self, label: str, step_id: int | None) -> Branch:
        target = self.flow.step(step_id)
        if target is None:
            return Branch(label)
        if target.id in self.shown:
            return Branch(label, ref=target.name)
        return Branch(label, node=self.node(target))

    def node(self, step: StepSnapshot) -> Node:
        self.shown.add(step.id)
        node = Node(step, Kind(step.kind).label, self.summary(step))
        if step.kind == Kind.MENU:
            for key in sorted(step.options):
                node.branches.append(
                    self.branch(_("key %(key)s") % {"key": key}, step.options[key])
                )
            if step.invalid_message:
                node.branches.append(
                    Branch(
                        _("other key: “%(m)s”, menu again") % {"m": step.invalid_message},
                        ref=step.name,
                    )
                )
            silence = _("no key in %(s)d s") % {"s": step.timeout}
            if step.no_input_message:
                silence += f": “{step.no_input_message}”"
            if step.no_input_id is None:
                node.branches.append(Branch(silence, ref=step.name))
            else:
                node.branches.append(self.branch(silence, step.no_input_id))
        elif step.kind == Kind.HOURS:
            node.branches.append(self.branch(_("open"), step.open_id))
            node.branches.append(self.branch(_("closed or holiday"), step.closed_id))
        elif step.kind == Kind.QUEUE:
            node.branches.append(
                self.branch(_("taken out of the queue by the system"), step.next_id)
            )
        elif step.kind == Kind.DIAL:
            node.branches.append(self.branch(_("no answer"), step.next_id))
        elif step.kind in (Kind.SAY, Kind.VOICEMAIL):
            node.branches.append(self.branch(_("then"), step.next_id))
        return node


def flow_outline(flow: FlowSnapshot) -> dict:
    """{'root': Node or None, 'unreachable': [Node, ...]}; a step shown once, then referred to."""
    builder = _Builder(flow)
    root = builder.node(flow.steps[flow.start_id]) if flow.start_id in flow.steps else None
    unreachable = [
        builder.node(step) for step in unreachable_steps(flow) if step.id not in builder.shown
    ]
    return {"root": root, "unreachable": unreachable}
