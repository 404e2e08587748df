"""Reads for the report pages that are not metrics: lists and one call's timeline."""

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    QuerySet,
)

from ivr.models import CallPathEntry, Flow, MenuOption, Step
from ivr.selectors import call_path_for
from queues.models import Queue, QueueVisit
from queues.selectors import ABANDONED, ANSWERED, SHORT_ABANDONED
from telephony.models import Call, CallStatus, CallStatusEvent, WebhookEvent

from .metrics import DateRange

PAGE_SIZE = 50
# The Twilio fields worth showing on a call's timeline (the raw event has them all). Not
# RecordingUrl: recordings are played through the app (the summary's player), never linked.
TIMELINE_FIELDS = (
    "CallStatus",
    "Digits",
    "QueueResult",
    "QueueTime",
    "DequeueResult",
    "DialCallStatus",
    "DialCallDuration",
    "ErrorCode",
)


def all_queues() -> list[Queue]:
    return list(Queue.objects.order_by("slug"))


def abandoned_visits(
    *, date_range: DateRange, queues: list[Queue], number: str = "", exclude_short: bool = False
) -> QuerySet[QueueVisit]:
    """Abandoned visits, newest first, each marked called_back when the caller was reached
    later: answered in a queue again, or called by the center and the call completed."""
    visits = QueueVisit.objects.reported().filter(
        ABANDONED,
        entered_at__gte=date_range.start_at,
        entered_at__lt=date_range.end_at,
        queue__in=queues,
    )
    if exclude_short:
        visits = visits.exclude(SHORT_ABANDONED)
    if number:
        visits = visits.filter(call__from_number__contains=number)
    answered_later = QueueVisit.objects.reported().filter(
        ANSWERED,
        call__from_number=OuterRef("call__from_number"),
        entered_at__gt=OuterRef("entered_at"),
    )
    called_later = Call.objects.filter(
        to_number=OuterRef("call__from_number"),
        started_at__gt=OuterRef("entered_at"),
        status=CallStatus.COMPLETED,
    ).exclude(direction="inbound")
    return (
        visits.select_related("queue", "call")
        .annotate(
            called_back=ExpressionWrapper(
                Exists(answered_later) | Exists(called_later), output_field=BooleanField()
            )
        )
        .order_by("-entered_at", "-pk")
    )


def paginate(queryset, page_number) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(page_number)


def call_timeline(sid: str) -> dict | None:
    """One call and its agent legs: every webhook, status change, IVR step and queue visit, in
    time order."""
    call = Call.objects.filter(sid=sid).first()
    if call is None:
        return None
    legs = list(Call.objects.filter(parent_sid=sid).order_by("started_at"))
    visits = list(call.queue_visits.select_related("queue").order_by("entered_at"))
    agent_sids = {visit.agent_call_sid for visit in visits if visit.agent_call_sid}
    sids = {sid} | {leg.sid for leg in legs} | agent_sids
    events = []
    for event in WebhookEvent.objects.filter(call_sid__in=sids).order_by("received_at", "pk"):
        events.append(
            {"at": event.received_at, "kind": "webhook", "event": event, "leg": event.call_sid}
        )
    for status in CallStatusEvent.objects.filter(call__sid__in=sids).select_related("call"):
        events.append(
            {"at": status.timestamp, "kind": "status", "event": status, "leg": status.call.sid}
        )
    for step in call_path_for(sid):
        events.append({"at": step["at"], "kind": "ivr", "event": step, "leg": sid})
    for visit in visits:
        events.append({"at": visit.entered_at, "kind": "enqueued", "event": visit, "leg": sid})
        if visit.answered_at:
            events.append({"at": visit.answered_at, "kind": "answered", "event": visit, "leg": sid})
        if visit.left_at:
            events.append({"at": visit.left_at, "kind": "left", "event": visit, "leg": sid})
    events.sort(key=lambda entry: entry["at"])
    return {
        "call": call,
        "legs": legs,
        "visits": visits,
        "events": events,
        "timeline_fields": TIMELINE_FIELDS,
    }


def _key_order(key: str) -> tuple:
    """Keys as a keypad reads them: 1-9, 0, *, # (then longer sequences the same way)."""
    rank = {k: i for i, k in enumerate("1234567890*#")}
    return (len(key), [rank.get(c, 99) for c in key])


def flow_step_order(flow: Flow) -> list[str]:
    """The flow's step names in the order a caller meets them: the start step, then breadth
    first along each step's ways on (a menu's keys in keypad order, then silence; next step;
    when open, when closed); steps no call reaches last, as stored. Two queries."""
    steps = {
        row["id"]: row
        for row in Step.objects.filter(flow=flow)
        .order_by("id")
        .values("id", "name", "next_step_id", "no_input_step_id", "open_step_id", "closed_step_id")
    }
    keys: dict[int, list[tuple[str, int]]] = {}
    for option in MenuOption.objects.filter(step__flow=flow).values("step_id", "key", "target_id"):
        keys.setdefault(option["step_id"], []).append((option["key"], option["target_id"]))
    order, seen = [], set()
    queue = [flow.start_step_id] if flow.start_step_id in steps else []
    while queue:
        step_id = queue.pop(0)
        if step_id in seen or step_id not in steps:
            continue
        seen.add(step_id)
        row = steps[step_id]
        order.append(row["name"])
        menu = [
            target for _, target in sorted(keys.get(step_id, []), key=lambda k: _key_order(k[0]))
        ]
        queue.extend(
            [
                *menu,
                row["no_input_step_id"],
                row["next_step_id"],
                row["open_step_id"],
                row["closed_step_id"],
            ]
        )
    order.extend(row["name"] for step_id, row in steps.items() if step_id not in seen)
    return order


def ivr_funnel(*, flow: Flow, date_range: DateRange) -> dict:
    """How callers went through one flow: callers reaching each step, keys pressed at each menu,
    and the step each caller's path ended at (where callers hung up, or left the IVR)."""
    entries = CallPathEntry.objects.filter(
        flow=flow, at__gte=date_range.start_at, at__lt=date_range.end_at
    )
    entered = CallPathEntry.Outcome.ENTERED
    steps = {
        row["step_name"]: {**row, "ended_here": 0}
        for row in entries.values("step_name", "kind")
        .annotate(
            reached=Count("call_id", filter=Q(outcome=entered), distinct=True),
            no_input=Count("pk", filter=Q(outcome=CallPathEntry.Outcome.NO_INPUT)),
            invalid=Count("pk", filter=Q(outcome=CallPathEntry.Outcome.INVALID)),
        )
        .order_by()
    }
    # A call's last entry is its highest id: entries are written in the order they happen.
    last_ids = entries.values("call_id").annotate(last=Max("pk")).values("last")
    for row in (
        CallPathEntry.objects.filter(pk__in=last_ids)
        .values("step_name")
        .annotate(calls=Count("pk"))
        .order_by()
    ):
        if row["step_name"] in steps:
            steps[row["step_name"]]["ended_here"] = row["calls"]
    # In flow order (the order callers meet the steps); steps of the past that the flow no
    # longer has come last, most reached first.
    position = {name: i for i, name in enumerate(flow_step_order(flow))}

    def place(name, reached=0):
        return (position.get(name, len(position)), -reached, name)

    keys = sorted(
        entries.exclude(digits="")
        .exclude(outcome=entered)
        .values("step_name", "digits", "outcome")
        .annotate(times=Count("pk"))
        .order_by("step_name", "-times", "digits"),
        key=lambda key: place(key["step_name"]),
    )
    calls = max((step["reached"] for step in steps.values()), default=0)
    ordered = sorted(steps.values(), key=lambda step: place(step["step_name"], step["reached"]))
    for step in ordered:
        step["share"] = round(step["reached"] / calls, 4) if calls else None
    return {"steps": ordered, "keys": keys, "calls": calls}


def schema_operations(schema: dict) -> list[dict]:
    """The operations of an OpenAPI schema, with response fields resolved for reading."""
    components = schema.get("components", {}).get("schemas", {})

    def resolve(node):
        if "$ref" in node:
            return components.get(node["$ref"].rsplit("/", 1)[-1], {})
        return node

    def fields(node, prefix=""):
        node = resolve(node)
        out = []
        for name, prop in node.get("properties", {}).items():
            prop = resolve(prop)
            if prop.get("type") == "array" and "items" in prop:
                out.append(
                    {
                        "name": prefix + name,
                        "type": "array",
                        "description": prop.get("description", ""),
                    }
                )
                out.extend(fields(prop["items"], prefix=f"{prefix}{name}[]."))
            else:
                kind = prop.get("type", "")
                if prop.get("format"):
                    kind += f" ({prop['format']})"
                if prop.get("nullable"):
                    kind += ", null"
                out.append(
                    {
                        "name": prefix + name,
                        "type": kind,
                        "description": prop.get("description", ""),
                    }
                )
        return out

    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            responses = []
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                responses.append({"code": code, "fields": fields(content.get("schema", {}))})
            operations.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": operation.get("summary", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "type": p.get("schema", {}).get("type", ""),
                            "enum": p.get("schema", {}).get("enum", []),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": responses,
                }
            )
    return operations
