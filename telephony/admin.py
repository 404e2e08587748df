from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Call, CallStatusEvent, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by Twilio's requests: look, never touch. Built for millions of rows."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CallStatusEventInline(admin.TabularInline):
    model = CallStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ["sequence_number", "status", "timestamp", "duration_seconds"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = [
        "sid",
        "from_number",
        "to_number",
        "direction",
        "status",
        "started_at",
        "duration_seconds",
    ]
    list_filter = ["status", "direction"]
    # Exact matches only: a prefix-free LIKE over millions of legs would scan the table.
    search_fields = ["=sid", "=parent_sid", "=from_number", "=to_number"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    inlines = [CallStatusEventInline]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "method", "path", "call_sid", "outcome", "response_status"]
    list_filter = ["outcome"]
    search_fields = ["=call_sid", "path"]
    ordering = ["-received_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "received_at",
                    "method",
                    "url",
                    "path",
                    "call_sid",
                    "outcome",
                    "response_status",
                ]
            },
        ),
        (_("Request"), {"fields": ["fields", "signature"]}),
        (_("Error"), {"fields": ["error"]}),
    ]
