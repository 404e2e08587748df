"""The POST data of the flow admin's change form, built from a flow as stored."""

from ivr.admin import STEP_FIELD_NAMES

FK_FIELDS = {
    "next_step",
    "no_input_step",
    "open_step",
    "closed_step",
    "queue",
    "schedule",
    "goto_flow",
}


def _value(obj, name):
    if name in FK_FIELDS:
        value = getattr(obj, f"{name}_id")
        return "" if value is None else str(value)
    value = getattr(obj, name)
    if isinstance(value, bool):
        return "on" if value else ""
    return "" if value is None else str(value)


def _management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def flow_post_data(flow) -> dict:
    data = {
        "name": flow.name,
        "language": flow.language,
        "voice": flow.voice,
        "start_step": str(flow.start_step_id or ""),
    }
    steps = list(flow.steps.order_by("id"))
    data.update(_management("steps", len(steps), len(steps)))
    for i, step in enumerate(steps):
        data[f"steps-{i}-id"] = str(step.id)
        data[f"steps-{i}-flow"] = str(flow.id)
        data[f"steps-{i}-name"] = step.name
        data[f"steps-{i}-kind"] = step.kind
        for name in STEP_FIELD_NAMES:
            data[f"steps-{i}-{name}"] = _value(step, name)
    options = list(flow.options.order_by("id"))
    data.update(_management("options", len(options), len(options)))
    for i, option in enumerate(options):
        data[f"options-{i}-id"] = str(option.id)
        data[f"options-{i}-flow"] = str(flow.id)
        data[f"options-{i}-step"] = str(option.step_id)
        data[f"options-{i}-key"] = option.key
        data[f"options-{i}-target"] = str(option.target_id)
    numbers = list(flow.numbers.order_by("id"))
    data.update(_management("numbers", len(numbers), len(numbers)))
    for i, number in enumerate(numbers):
        data[f"numbers-{i}-id"] = str(number.id)
        data[f"numbers-{i}-flow"] = str(flow.id)
        data[f"numbers-{i}-number"] = number.number
        data[f"numbers-{i}-name"] = number.name
        data[f"numbers-{i}-twilio_sid"] = number.twilio_sid
    return {k: v for k, v in data.items() if v != "" or k.endswith("_FORMS")}


def add_form(data, prefix, fields) -> int:
    """Append one new inline form; returns its index."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = value
    return index
