"""Labels for the words the emulated call writes into a Try transcript."""

from django import template
from django.utils.translation import gettext_lazy as _

from queues.models import QueueResult
from telephony.models import CallStatus

register = template.Library()

# Who or what hung up, as the emulator names it.
HANGUP_SOURCES = {
    "app": _("the flow hung up"),
    "caller": _("the caller hung up"),
    "api": _("ended through the REST API"),
    "agent": _("the agent hung up"),
    "reject after answer": _("rejected after answering (Twilio hangs up)"),
}


@register.filter
def hangup_source(value: str) -> str:
    """ "app" -> "the flow hung up"; an unknown source is shown as it is."""
    return str(HANGUP_SOURCES.get(value, value))


@register.filter
def call_status_label(value: str) -> str:
    """ "completed" -> "completed" in the reader's language (Twilio's call statuses)."""
    return str(dict(CallStatus.choices).get(value, value))


@register.filter
def queue_result_label(value: str) -> str:
    """ "hangup" -> "caller hung up" in the reader's language (Twilio's QueueResult values)."""
    return str(dict(QueueResult.choices).get(value, value))
