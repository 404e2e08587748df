"""Flows as JSON documents (docs/flows.md): export, and an atomic, validating import.

Everything is referred to by name (steps by name inside their flow, flows and schedules by
name, queues by slug), so a document moves between databases.
"""

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from queues.models import Queue, QueueMessages
from telephony.phone import to_e164

from .models import (
    KIND_FIELDS,
    STEP_FIELD_NAMES,
    STEP_TARGET_FIELDS,
    BusinessHours,
    Flow,
    Holiday,
    MenuOption,
    OpeningRange,
    PhoneNumber,
    Step,
)
from .services import flow_touch

FORMAT = "tsunagu.flows/1"
# A queue's settings and its messages, as a flow file carries them (Twilio's SID and sync state
# belong to the database, not to the file).
QUEUE_FIELDS = [
    "name",
    "max_size",
    "hold_music_url",
    "announce_every_seconds",
    "max_wait_seconds",
    "service_level_seconds",
    "short_abandon_seconds",
    "service_level_target",
    "longest_wait_alert_seconds",
    "record_answered_calls",
    "announce_pause_seconds",
    "announce_estimated_wait",
    "wrap_up_seconds",
    "routing_mode",
    "priority",
    "ring_timeout_seconds",
    "missed_ready_after_seconds",
    "callback_after_seconds",
    "callback_estimated_wait_minutes",
    "callback_retry_seconds",
    "callback_max_attempts",
]
MESSAGE_FIELDS = [
    "order",
    "language",
    "voice",
    "position_message",
    "position_with_wait_message",
    "connect_message",
    "queue_full_message",
    "recording_notice",
    "callback_offer_message",
    "callback_number_message",
    "callback_invalid_message",
    "callback_confirmed_message",
]
# A step's references to rows outside its flow, by the name that moves between databases:
# field → (the attribute that names the row, what an error calls it). Targets (steps of the same
# flow) are named by step name; every other field of KIND_FIELDS is a plain value.
REFERENCES = {
    "queue": ("slug", "queue"),
    "schedule": ("name", "business hours"),
    "goto_flow": ("name", "flow"),
}


class FlowFileError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- export -------------------------------------------------------------------------------------
def _export_step(step: Step, names: dict[int, str]) -> dict:
    data = {"name": step.name, "kind": step.kind}
    for field in KIND_FIELDS[step.kind]:
        if field in STEP_TARGET_FIELDS:
            data[field] = names.get(getattr(step, f"{field}_id"))
        elif field in REFERENCES:
            row = getattr(step, field)
            data[field] = getattr(row, REFERENCES[field][0]) if row else None
        else:
            data[field] = getattr(step, field)
    if step.kind == Step.Kind.MENU:
        data["options"] = [
            {"key": option.key, "target": names.get(option.target_id)}
            for option in sorted(step.options.all(), key=lambda o: o.key)
        ]
    return data


def _export_flow(flow: Flow) -> dict:
    steps = sorted(flow.steps.all(), key=lambda s: s.id)
    names = {step.id: step.name for step in steps}
    return {
        "name": flow.name,
        "language": flow.language,
        "voice": flow.voice,
        "start_step": names.get(flow.start_step_id),
        "steps": [_export_step(step, names) for step in steps],
    }


def _export_schedule(schedule: BusinessHours) -> dict:
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "ranges": [
            {
                "weekday": r.weekday,
                "opens": r.opens.strftime("%H:%M"),
                "closes": r.closes.strftime("%H:%M"),
            }
            for r in schedule.ranges.all()
        ],
        "holidays": [{"date": h.date.isoformat(), "name": h.name} for h in schedule.holidays.all()],
    }


def _export_queue(queue: Queue) -> dict:
    data = {"slug": queue.slug}
    data.update({field: getattr(queue, field) for field in QUEUE_FIELDS})
    data["messages"] = [
        {field: getattr(m, field) for field in MESSAGE_FIELDS} for m in queue.messages.all()
    ]
    return data


def _export_number(number: PhoneNumber) -> dict:
    return {
        "number": number.number,
        "name": number.name,
        "flow": number.flow.name,
        "twilio_sid": number.twilio_sid,
    }


def _flows_with_gotos(names: list[str]) -> list[Flow]:
    """The flows named, and every flow they reach through a goto step (so the document
    imports on its own)."""
    wanted = set(names)
    found = {f.name for f in Flow.objects.filter(name__in=wanted)}
    missing = sorted(wanted - found)
    if missing:
        raise FlowFileError([f"no flow {name!r}" for name in missing])
    while True:
        reached = set(
            Step.objects.filter(flow__name__in=wanted, kind=Step.Kind.GOTO)
            .exclude(goto_flow=None)
            .values_list("goto_flow__name", flat=True)
        )
        if reached <= wanted:
            break
        wanted |= reached
    return list(Flow.objects.filter(name__in=wanted))


def flows_export(*, names: list[str] | None = None) -> dict:
    """Call flows as one JSON-serialisable document: every flow, or the flows ``names`` (and
    those they go to), with the business hours, queues (and their messages) and numbers they
    use. Raises FlowFileError for a name that is no flow."""
    flows = (
        Flow.objects.all()
        if not names
        else Flow.objects.filter(pk__in=[f.pk for f in _flows_with_gotos(names)])
    )
    flows = flows.prefetch_related(
        "steps__options", "steps__queue", "steps__schedule", "steps__goto_flow"
    ).order_by("name")
    steps = Step.objects.filter(flow__in=flows)
    schedules = BusinessHours.objects.prefetch_related("ranges", "holidays").order_by("name")
    if names:
        schedules = schedules.filter(pk__in=steps.exclude(schedule=None).values("schedule_id"))
    queues = (
        Queue.objects.filter(pk__in=steps.exclude(queue=None).values("queue_id"))
        .prefetch_related("messages")
        .order_by("slug")
    )
    numbers = PhoneNumber.objects.select_related("flow").filter(flow__in=flows).order_by("number")
    return {
        "format": FORMAT,
        "queues": [_export_queue(q) for q in queues],
        "schedules": [_export_schedule(s) for s in schedules],
        "flows": [_export_flow(f) for f in flows],
        "numbers": [_export_number(n) for n in numbers],
    }


def _current_state(document: dict) -> dict:
    """How each queue, schedule, flow and number the document names reads now (None: absent),
    to tell what an import creates, changes or leaves as it was."""

    def named(key, field):
        items = document.get(key, [])
        if not isinstance(items, list):
            return []
        return [str(item.get(field, "")) for item in items if isinstance(item, dict)]

    numbers = [to_e164(n) or n for n in named("numbers", "number")]
    queues = {q.slug: q for q in Queue.objects.filter(slug__in=named("queues", "slug"))}
    schedules = {
        s.name: s for s in BusinessHours.objects.filter(name__in=named("schedules", "name"))
    }
    flows = {f.name: f for f in Flow.objects.filter(name__in=named("flows", "name"))}
    phone_numbers = {
        n.number: n for n in PhoneNumber.objects.select_related("flow").filter(number__in=numbers)
    }
    return {
        "queues": {
            k: _export_queue(queues[k]) if k in queues else None for k in named("queues", "slug")
        },
        "schedules": {
            k: _export_schedule(schedules[k]) if k in schedules else None
            for k in named("schedules", "name")
        },
        "flows": {
            k: _export_flow(flows[k]) if k in flows else None for k in named("flows", "name")
        },
        "numbers": {
            k: _export_number(phone_numbers[k]) if k in phone_numbers else None for k in numbers
        },
    }


def _changes(before: dict, after: dict) -> dict:
    """{kind: {"created": [...], "changed": [...], "unchanged": [...]}} by name."""
    result = {}
    for kind, items in after.items():
        result[kind] = {"created": [], "changed": [], "unchanged": []}
        for name, now in items.items():
            was = before[kind].get(name)
            state = "created" if was is None else "unchanged" if was == now else "changed"
            if name not in result[kind][state]:
                result[kind][state].append(name)
    return result


# --- import -------------------------------------------------------------------------------------
class _Importer:
    def __init__(self, document: dict):
        self.document = document
        self.errors: list[str] = []

    def error(self, where: str, message) -> None:
        self.errors.append(f"{where}: {message}")

    def check(self, where: str, obj, exclude=()) -> None:
        try:
            obj.full_clean(exclude=list(exclude), validate_unique=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.error(f"{where}.{field}" if field != "__all__" else where, message)

    def save(self, where: str, obj) -> bool:
        """Save in a savepoint: a database error becomes a listed problem, and the transaction
        stays usable (PostgreSQL) for finding the others."""
        try:
            with transaction.atomic():
                obj.save()
        except (DatabaseError, TypeError, ValueError) as exc:
            self.error(where, exc)
            return False
        return True

    def items(self, key: str) -> list:
        value = self.document.get(key, [])
        if not isinstance(value, list):
            self.error(key, "must be a list")
            return []
        return value

    def run(self) -> dict:
        if not isinstance(self.document, dict) or self.document.get("format") != FORMAT:
            raise FlowFileError([f"format: expected {FORMAT!r}"])
        for i, data in enumerate(self.items("queues")):
            self.import_queue(f"queues[{i}]", data)
        schedules = {s.name: s for s in BusinessHours.objects.all()}
        for i, data in enumerate(self.items("schedules")):
            schedule = self.import_schedule(f"schedules[{i}]", data)
            if schedule is not None:
                schedules[schedule.name] = schedule
        flows_data = self.items("flows")
        flows = {f.name: f for f in Flow.objects.all()}
        created = []
        for i, data in enumerate(flows_data):
            flow = self.import_flow_head(f"flows[{i}]", data)
            if flow is not None:
                flows[flow.name] = flow
                created.append((i, flow, data))
        named = {
            "queue": {q.slug: q for q in Queue.objects.all()},
            "schedule": schedules,
            "goto_flow": flows,
        }
        for i, flow, data in created:
            self.import_steps(f"flows[{i}]", flow, data, named)
        for i, data in enumerate(self.items("numbers")):
            self.import_number(f"numbers[{i}]", data, flows)
        if self.errors:
            raise FlowFileError(self.errors)
        for _, flow, _ in created:
            flow_touch(flow=flow)
        return {
            "flows": len(created),
            "schedules": len(self.document.get("schedules", [])),
            "numbers": len(self.document.get("numbers", [])),
            "queues": len(self.document.get("queues", [])),
        }

    def import_queue(self, where, data):
        """Create or update a queue by slug, with its messages. A queue created or resized
        here is left "not synced": saving it in the admin mirrors it to Twilio."""
        if not isinstance(data, dict):
            self.error(where, "must be an object")
            return
        slug = str(data.get("slug", ""))
        queue = Queue.objects.filter(slug=slug).first() or Queue(slug=slug)
        size_before = queue.max_size if queue.pk else None
        for field in QUEUE_FIELDS:
            if field in data:
                setattr(queue, field, data[field])
        if size_before is not None and size_before != queue.max_size:
            queue.twilio_synced_at = None
        before = len(self.errors)
        self.check(where, queue, exclude=["twilio_sid", "twilio_synced_at"])
        if len(self.errors) > before or not self.save(where, queue):
            return
        messages = data.get("messages", [])
        if not isinstance(messages, list):
            self.error(f"{where}.messages", "must be a list")
            return
        queue.messages.all().delete()
        for j, m in enumerate(messages):
            message = QueueMessages(queue=queue)
            for field in MESSAGE_FIELDS:
                if isinstance(m, dict) and field in m:
                    setattr(message, field, m[field])
            before = len(self.errors)
            self.check(f"{where}.messages[{j}]", message, exclude=["queue"])
            if len(self.errors) == before:
                self.save(f"{where}.messages[{j}]", message)

    def import_schedule(self, where, data):
        schedule = BusinessHours.objects.filter(name=data.get("name", "")).first()
        schedule = schedule or BusinessHours(name=data.get("name", ""))
        schedule.time_zone = data.get("time_zone", "Asia/Tokyo")
        before = len(self.errors)
        self.check(where, schedule)
        if len(self.errors) > before or not self.save(where, schedule):
            return None
        schedule.ranges.all().delete()
        schedule.holidays.all().delete()
        for j, r in enumerate(data.get("ranges", [])):
            try:
                opening = OpeningRange(
                    schedule=schedule,
                    weekday=r.get("weekday"),
                    opens=time.fromisoformat(r.get("opens", "")),
                    closes=time.fromisoformat(r.get("closes", "")),
                )
            except (TypeError, ValueError) as exc:
                self.error(f"{where}.ranges[{j}]", exc)
                continue
            before = len(self.errors)
            self.check(f"{where}.ranges[{j}]", opening)
            if len(self.errors) == before:
                self.save(f"{where}.ranges[{j}]", opening)
        for j, h in enumerate(data.get("holidays", [])):
            try:
                holiday = Holiday(
                    schedule=schedule,
                    date=date.fromisoformat(h.get("date", "")),
                    name=h.get("name", ""),
                )
            except (TypeError, ValueError) as exc:
                self.error(f"{where}.holidays[{j}]", exc)
                continue
            before = len(self.errors)
            self.check(f"{where}.holidays[{j}]", holiday)
            if len(self.errors) == before:
                self.save(f"{where}.holidays[{j}]", holiday)
        return schedule

    def import_flow_head(self, where, data):
        flow = Flow.objects.filter(name=data.get("name", "")).first()
        flow = flow or Flow(name=data.get("name", ""))
        flow.language = data.get("language", Flow.Language.JAPANESE)
        flow.voice = data.get("voice", "")
        flow.start_step = None
        before = len(self.errors)
        self.check(where, flow, exclude=["start_step"])
        if len(self.errors) > before or not self.save(where, flow):
            return None
        return flow

    def import_steps(self, where, flow, data, named):
        """The flow's steps in two passes: values and references first, then the targets
        (which may name any step of the flow), menu options and the start step."""
        steps_data = data.get("steps", [])
        names = [step_data.get("name", "") for step_data in steps_data]
        for name in {n for n in names if names.count(n) > 1}:
            self.error(f"{where}.steps", f"step name {name!r} is used twice")
        existing = {step.name: step for step in flow.steps.all()}
        # Options first: their targets may be steps that are about to be deleted.
        flow.options.all().delete()
        # Steps about to go may still be targets of steps that stay: unlink before deleting.
        Step.objects.filter(flow=flow).update(**dict.fromkeys(STEP_TARGET_FIELDS))
        Step.objects.filter(flow=flow).exclude(name__in=names).delete()
        steps = {}
        for index, step_data in enumerate(steps_data):
            step = self.import_step(f"{where}.steps[{index}]", flow, existing, step_data, named)
            if step is not None:
                steps[step.name] = step
        for index, step_data in enumerate(steps_data):
            step = steps.get(step_data.get("name", ""))
            if step is not None:
                self.link_step(f"{where}.steps[{index}]", flow, step, step_data, steps)
        start = data.get("start_step")
        if start is not None:
            if start not in steps:
                self.error(f"{where}.start_step", f"no step {start!r} in this flow")
            else:
                flow.start_step = steps[start]
                flow.save(update_fields=["start_step"])

    def import_step(self, where, flow, existing, data, named):
        """One step with its kind's values and references, every other field reset; saved
        when valid. ``named``: for each reference field, its rows by name."""
        name = data.get("name", "")
        step = existing.get(name) or Step(flow=flow, name=name)
        defaults = Step(flow=flow)
        for field in STEP_FIELD_NAMES:
            if field in REFERENCES or field in STEP_TARGET_FIELDS:
                setattr(step, f"{field}_id", None)
            else:
                setattr(step, field, getattr(defaults, field))
        kind = data.get("kind", "")
        step.kind = kind
        if kind not in KIND_FIELDS:
            self.error(f"{where}.kind", f"unknown kind {kind!r}")
            return None
        for field in KIND_FIELDS[kind]:
            if field in REFERENCES:
                ref = data.get(field)
                if ref not in named[field]:
                    self.error(f"{where}.{field}", f"no {REFERENCES[field][1]} {ref!r}")
                else:
                    setattr(step, field, named[field][ref])
            elif field == "dial_number" and isinstance(data.get(field), str):
                # Written the national way (050-…) or in E.164; stored in E.164.
                step.dial_number = to_e164(data[field]) or data[field]
            elif field not in STEP_TARGET_FIELDS and field in data:
                setattr(step, field, data[field])
        before = len(self.errors)
        self.check(where, step, exclude=["flow", *STEP_TARGET_FIELDS])
        if len(self.errors) == before and self.save(where, step):
            return step
        return None

    def link_step(self, where, flow, step, data, steps):
        """The step's targets, now that every step of the flow exists, and a menu's options."""
        changed = []
        for field in STEP_TARGET_FIELDS:
            target = data.get(field)
            if field not in KIND_FIELDS[step.kind] or target is None:
                continue
            if target not in steps:
                self.error(f"{where}.{field}", f"no step {target!r} in this flow")
                continue
            setattr(step, field, steps[target])
            changed.append(field)
        before = len(self.errors)
        self.check(where, step, exclude=["flow"])
        if changed and len(self.errors) == before:
            step.save(update_fields=changed)
        if step.kind == Step.Kind.MENU:
            self.import_options(where, flow, step, data.get("options", []), steps)

    def import_options(self, where, flow, step, options, steps):
        keys = set()
        for k, o in enumerate(options):
            key, target = o.get("key", ""), o.get("target")
            if key in keys:
                self.error(f"{where}.options[{k}].key", f"key {key!r} is used twice")
                continue
            keys.add(key)
            if target not in steps:
                self.error(f"{where}.options[{k}].target", f"no step {target!r} in this flow")
                continue
            option = MenuOption(flow=flow, step=step, key=key, target=steps[target])
            before = len(self.errors)
            self.check(f"{where}.options[{k}]", option)
            if len(self.errors) == before:
                self.save(f"{where}.options[{k}]", option)

    def import_number(self, where, data, flows):
        written = str(data.get("number", ""))
        written = to_e164(written) or written
        number = PhoneNumber.objects.filter(number=written).first()
        number = number or PhoneNumber(number=written)
        number.name = data.get("name", "")
        number.twilio_sid = data.get("twilio_sid", "")
        flow = flows.get(data.get("flow"))
        if flow is None:
            self.error(f"{where}.flow", f"no flow {data.get('flow')!r}")
            return
        number.flow = flow
        before = len(self.errors)
        self.check(where, number)
        if len(self.errors) == before:
            self.save(where, number)


def flows_import(*, document: dict, dry_run: bool = False) -> dict:
    """Create or update every queue, schedule, flow and number of ``document``; all or nothing.

    Steps of an imported flow that the document does not list are deleted. Raises
    FlowFileError listing every problem found (nothing is changed then). Answers the counts
    and ``changes``: for queues, schedules, flows and numbers, the names created, changed and
    left unchanged. ``dry_run``: the same checks and answer, and nothing is written.
    """
    with transaction.atomic():
        before = _current_state(document) if isinstance(document, dict) else None
        result = _Importer(document).run()
        result["changes"] = _changes(before, _current_state(document))
        if dry_run:
            transaction.set_rollback(True)
        return result
