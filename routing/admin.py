"""Supervisors see offers (ringing now first), bridges, callbacks, monitorings, recordings and
quality reviews; all are written only by routing (or Twilio's callbacks to it)."""

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from queues.models import Queue
from telephony.admin import ReadOnlyAdmin

from .models import (
    REVIEW_CHECKLIST,
    Bridge,
    BridgeParticipant,
    Callback,
    CallbackHours,
    CallbackStatus,
    Monitoring,
    Offer,
    OfferOutcome,
    QualityReview,
    Recording,
)
from .selectors import user_may_play_recordings


class RingingFilter(admin.SimpleListFilter):
    title = _("ringing now")
    parameter_name = "ringing"

    def lookups(self, request, model_admin):
        return [("yes", _("ringing now"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(outcome=OfferOutcome.OPEN)
        return queryset


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "agent",
        "queue",
        "visit",
        "callback",
        "outcome",
        "rang_at",
        "ended_at",
    ]
    list_filter = [RingingFilter, "outcome", "queue", "agent"]
    list_select_related = ["agent", "queue", "visit", "callback"]
    search_fields = ["=agent_call_sid", "agent__identity"]
    date_hierarchy = "started_at"


class BridgeParticipantInline(admin.TabularInline):
    model = BridgeParticipant
    extra = 0
    can_delete = False
    readonly_fields = ["call_sid", "role", "agent", "joined_at", "left_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bridge)
class BridgeAdmin(ReadOnlyAdmin):
    list_display = ["friendly_name", "visit", "offer", "created_at", "ended_at"]
    inlines = [BridgeParticipantInline]


class PendingFilter(admin.SimpleListFilter):
    title = _("pending")
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", _("waiting or dialling")), ("failed", _("failed: call them"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=(CallbackStatus.REQUESTED, CallbackStatus.DIALLING))
        if self.value() == "failed":
            return queryset.filter(status=CallbackStatus.FAILED)
        return queryset


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    """Supervisors see callbacks pending, and those that failed after every attempt."""

    list_display = [
        "requested_at",
        "queue",
        "number",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "agent",
        "entered_at",
    ]
    list_filter = [PendingFilter, "status", "queue"]
    list_select_related = ["queue", "agent"]
    search_fields = ["=number"]
    date_hierarchy = "requested_at"


@admin.register(CallbackHours)
class CallbackHoursAdmin(admin.ModelAdmin):
    """When each queue's callbacks are offered and dialled (none: any time)."""

    list_display = ["queue", "hours"]


@admin.register(Monitoring)
class MonitoringAdmin(ReadOnlyAdmin):
    """Supervisors' listen / whisper / barge sessions (written only by routing)."""

    list_display = ["started_at", "supervisor", "agent", "mode", "answered_at", "ended_at"]
    list_filter = ["mode"]
    list_select_related = ["supervisor", "agent"]


# --- Recordings and quality reviews (written only by Twilio's callbacks and the call page) ------


class RecordingStatusFilter(admin.SimpleListFilter):
    # Fixed choices: no DISTINCT over every recording.
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("in-progress", _("recording")),
            ("paused", _("paused")),
            ("completed", _("completed")),
            ("unfinished", _("no completed callback yet")),
            ("failed", _("absent or failed")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "unfinished":
            return queryset.filter(ended_at__isnull=True)
        if value == "failed":
            return queryset.filter(status__in=("absent", "failed"))
        if value:
            return queryset.filter(status=value)
        return queryset


class RecordingKindFilter(admin.SimpleListFilter):
    title = _("call")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("queued", _("queued call")), ("callback", _("callback"))]

    def queryset(self, request, queryset):
        if self.value() == "queued":
            return queryset.filter(bridge__isnull=False)
        if self.value() == "callback":
            return queryset.filter(callback__isnull=False)
        return queryset


class RecordingQueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(str(q.pk), q.name) for q in Queue.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(bridge__visit__queue_id=self.value()) | Q(callback__queue_id=self.value())
            )
        return queryset


class RecordingAgentFilter(admin.SimpleListFilter):
    title = _("agent")
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        return [(a.identity, str(a)) for a in Agent.objects.select_related("user")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(bridge__offer__agent__identity=self.value())
                | Q(callback__agent__identity=self.value())
            )
        return queryset


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    """Recordings of answered calls: what Twilio reported, the call's page, and the app's player
    for those who may play (Twilio's media address is never shown)."""

    list_display = [
        "started_at",
        "call",
        "agent",
        "queue",
        "status",
        "duration_seconds",
        "paused_in_call",
        "reviewed",
    ]
    list_filter = [
        RecordingStatusFilter,
        RecordingKindFilter,
        RecordingQueueFilter,
        RecordingAgentFilter,
    ]
    list_select_related = [
        "bridge__offer__agent__user",
        "bridge__visit__queue",
        "callback__agent__user",
        "callback__queue",
        "review",
    ]
    search_fields = ["=sid", "=call_sid"]
    ordering = ["-started_at"]
    fields = [
        "sid",
        "call",
        "agent",
        "queue",
        "bridge",
        "callback",
        "status",
        "channels",
        "duration_seconds",
        "pauses",
        "started_at",
        "ended_at",
    ]
    readonly_fields = ["call", "agent", "queue"]

    def get_list_display(self, request):
        if user_may_play_recordings(request.user):
            return [*self.list_display, "play"]
        return self.list_display

    def get_fields(self, request, obj=None):
        if user_may_play_recordings(request.user):
            return [*self.fields, "play"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        if user_may_play_recordings(request.user):
            return [*self.readonly_fields, "play"]
        return self.readonly_fields

    @admin.display(description=_("call"), ordering="call_sid")
    def call(self, obj):
        url = reverse("reports:call-detail", args=[obj.call_sid])
        return format_html('<a href="{}">{}</a>', url, obj.call_sid)

    @admin.display(description=_("agent"))
    def agent(self, obj):
        return obj.agent

    @admin.display(description=_("queue"))
    def queue(self, obj):
        return obj.queue

    @admin.display(description=_("paused"), boolean=True)
    def paused_in_call(self, obj):
        return bool(obj.pauses)

    @admin.display(description=_("reviewed"), boolean=True)
    def reviewed(self, obj):
        return obj.review_or_none is not None

    @admin.display(description=_("listen"))
    def play(self, obj):
        if obj.status != "completed" or not obj.media_url:
            return "–"
        url = reverse("recording-audio", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("play"))


@admin.register(QualityReview)
class QualityReviewAdmin(ReadOnlyAdmin):
    """Supervisors' scores of recorded calls (made on the call's page)."""

    list_display = ["reviewed_at", "recording_call", "agent", "reviewer", "score_display"]
    list_filter = ["agent", "reviewer"]
    list_select_related = ["recording", "agent__user", "reviewer"]
    search_fields = ["=recording__sid", "=recording__call_sid", "agent__identity", "comment"]
    ordering = ["-reviewed_at"]
    fields = ["recording_call", "agent", "reviewer", "checklist", "comment", "reviewed_at"]
    readonly_fields = ["recording_call", "checklist"]

    @admin.display(description=_("call"), ordering="recording__call_sid")
    def recording_call(self, obj):
        url = reverse("reports:call-detail", args=[obj.recording.call_sid])
        return format_html('<a href="{}#call-recordings">{}</a>', url, obj.recording.call_sid)

    @admin.display(description=_("score"))
    def score_display(self, obj):
        return f"{obj.score} / {len(REVIEW_CHECKLIST)}"

    @admin.display(description=_("checklist"))
    def checklist(self, obj):
        from django.utils.html import format_html_join

        return format_html_join(
            "", "<div>{} {}</div>", (("✔" if met else "✘", label) for label, met in obj.items())
        )
