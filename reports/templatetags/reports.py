from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ivr.models import CallPathEntry, Step

from ..metrics import local_today
from ..selectors import all_queues as _all_queues

register = template.Library()

DASH = "–"


@register.filter
def percent(value):
    """0.7759 -> 77.6 %; a ratio with nothing to divide by shows a dash."""
    return DASH if value is None else f"{value * 100:.1f} %"


@register.filter
def seconds(value):
    return DASH if value is None else f"{value:.1f}"


@register.filter
def clock(total_seconds) -> str:
    """125 -> 2:05, as the wallboard shows waits."""
    if total_seconds is None:
        return DASH
    minutes, secs = divmod(int(total_seconds), 60)
    return f"{minutes}:{secs:02d}"


@register.filter
def duration(total_seconds) -> str:
    """3725 -> 1:02:05."""
    if total_seconds is None:
        return DASH
    minutes, secs = divmod(int(total_seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@register.filter
def period_label(iso: str, interval: str) -> str:
    start = datetime.fromisoformat(iso)
    if interval == "hour":
        return date_format(start, "Y-m-d H:00")
    if interval == "month":
        return date_format(start, "Y-m")
    return date_format(start, "Y-m-d")


@register.filter
def queue_name(slug: str, names: dict) -> str:
    """A queue's name for its slug (the slug when the queue is gone)."""
    return names.get(slug) or slug


@register.simple_tag
def date_presets():
    """Common ranges, as (label, start, end), by the report time zone's today."""
    today = local_today(timezone.now())
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        (_("Today"), today, today),
        (_("Yesterday"), today - timedelta(days=1), today - timedelta(days=1)),
        (_("This week"), week_start, today),
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("This month"), month_start, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
    ]


@register.simple_tag
def all_queues():
    return _all_queues()


@register.filter
def step_kind_label(kind: str) -> str:
    """A stored step kind ("menu") as the reader's label ("Menu (press a key)")."""
    return str(dict(Step.Kind.choices).get(kind, kind))


@register.filter
def path_outcome_label(outcome: str) -> str:
    """A stored IVR path outcome ("valid") as the reader's label ("valid key")."""
    return str(dict(CallPathEntry.Outcome.choices).get(outcome, outcome))
