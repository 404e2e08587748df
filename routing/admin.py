"""Supervisors see offers (ringing now first) and bridges; both are written only by routing."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from telephony.admin import ReadOnlyAdmin

from .models import (
    Bridge,
    BridgeParticipant,
    Callback,
    CallbackHours,
    CallbackStatus,
    Monitoring,
    Offer,
    OfferOutcome,
)


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
