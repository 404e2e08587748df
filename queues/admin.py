from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telephony.admin import ReadOnlyAdmin
from telephony.client import twilio_is_configured

from .models import Queue, QueueMessages, QueueVisit
from .selectors import queues_with_live_figures
from .services import QueueSyncError, queue_delete, queue_save


class QueueMessagesInline(admin.StackedInline):
    model = QueueMessages
    extra = 0
    min_num = 1
    fields = [
        ("language", "voice", "order"),
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


class QueueForm(forms.ModelForm):
    # Set by QueueAdmin when Twilio refused the change: the form is shown again with the error.
    sync_error = None

    def clean(self):
        cleaned = super().clean()
        if self.sync_error:
            raise forms.ValidationError(
                _("Twilio refused the change, nothing was saved: %(error)s"),
                params={"error": self.sync_error},
            )
        return cleaned


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    form = QueueForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [QueueMessagesInline]
    list_display = [
        "name",
        "slug",
        "max_size",
        "routing_mode",
        "waiting",
        "offered_today",
        "answered_today",
        "abandoned_today",
        "sync_status",
    ]
    search_fields = ["name", "slug"]
    readonly_fields = ["twilio_sid", "twilio_synced_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "max_size"]}),
        (
            _("Waiting"),
            {
                "fields": [
                    "hold_music_url",
                    "announce_every_seconds",
                    "announce_pause_seconds",
                    "announce_estimated_wait",
                    "max_wait_seconds",
                ]
            },
        ),
        (
            _("Routing"),
            {
                "fields": [
                    "routing_mode",
                    "priority",
                    "ring_timeout_seconds",
                    "missed_ready_after_seconds",
                ]
            },
        ),
        (
            _("Callbacks"),
            {
                "fields": [
                    "callback_after_seconds",
                    "callback_estimated_wait_minutes",
                    "callback_retry_seconds",
                    "callback_max_attempts",
                ],
                "description": _(
                    "Callbacks are offered and dialled only within the callback hours set in "
                    "Routing → Callback hours (none set: always)."
                ),
            },
        ),
        (
            _("Answered calls"),
            {"fields": ["record_answered_calls", "wrap_up_seconds"]},
        ),
        (
            _("Reports"),
            {
                "fields": [
                    "service_level_seconds",
                    "short_abandon_seconds",
                    "service_level_target",
                    "longest_wait_alert_seconds",
                ]
            },
        ),
        (_("Twilio"), {"fields": ["twilio_sid", "twilio_synced_at"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            # Live and today's figures for every listed queue, in the query that lists them.
            queryset = queues_with_live_figures(queryset)
        return queryset

    @admin.display(description=_("waiting"), ordering="waiting")
    def waiting(self, obj):
        return obj.waiting

    @admin.display(description=_("offered today"))
    def offered_today(self, obj):
        return obj.offered_today

    @admin.display(description=_("answered today"))
    def answered_today(self, obj):
        return obj.answered_today

    @admin.display(description=_("abandoned today"))
    def abandoned_today(self, obj):
        return obj.abandoned_today

    @admin.display(description=_("Twilio"))
    def sync_status(self, obj):
        return _("synced") if obj.is_synced else _("not synced")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.sync_error = getattr(request, "_queue_sync_error", None)
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except QueueSyncError as exc:
            # The admin's transaction was rolled back; show the form again with Twilio's error.
            request._queue_sync_error = str(exc)
            self.message_user(request, str(exc), messages.ERROR)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        queue_save(queue=obj)
        if not twilio_is_configured():
            self.message_user(
                request,
                _("Twilio is not configured: the queue was saved but not synced."),
                messages.WARNING,
            )

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except QueueSyncError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:queues_queue_change", args=[object_id]))

    def delete_model(self, request, obj):
        queue_delete(queue=obj)

    def get_actions(self, request):
        # Each deletion talks to Twilio and may fail on its own: one at a time, from its page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(QueueVisit)
class QueueVisitAdmin(ReadOnlyAdmin):
    list_display = [
        "entered_at",
        "queue",
        "call",
        "caller",
        "result",
        "wait_seconds",
        "agent_identity",
        "talk_seconds",
    ]
    list_filter = ["queue", "result", ("entered_at", admin.DateFieldListFilter)]
    list_select_related = ["queue", "call"]
    # Exact matches only: visits grow by the million.
    search_fields = ["=call__sid", "=call__from_number"]
    ordering = ["-entered_at"]
    fieldsets = [
        (None, {"fields": ["queue", "call", "entry", "queue_sid", "result"]}),
        (_("Times"), {"fields": ["entered_at", "answered_at", "left_at", "wait_seconds"]}),
        (
            _("Agent"),
            {"fields": ["agent_identity", "agent_call_sid", "talk_seconds", "wrap_up_seconds"]},
        ),
    ]

    @admin.display(description=_("caller"), ordering="call__from_number")
    def caller(self, obj):
        return obj.call.from_number
