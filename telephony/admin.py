from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import Call, CallStatusEvent, WebhookEvent


class EstimatedCountPaginator(Paginator):
    """Counting millions of rows on every page view is slow on PostgreSQL: for an unfiltered
    list, take the planner's estimate instead (exact counts for filtered lists)."""

    @cached_property
    def count(self):
        query = self.object_list.query
        connection = connections[self.object_list.db]
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 100_000:
                return row[0]
        return super().count


# Request fields never shown in a page: Twilio's media addresses.
PRIVATE_FIELDS = frozenset({"RecordingUrl"})


class DirectionFilter(admin.SimpleListFilter):
    # Fixed choices: a DISTINCT over every leg to build this list would scan the table.
    title = _("direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [
            ("inbound", _("inbound")),
            ("outbound-api", _("outbound (API)")),
            ("outbound-dial", _("outbound (dialled)")),
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(direction=self.value())
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by Twilio's requests: look, never touch. Built for millions of rows."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

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
    list_filter = ["status", DirectionFilter, ("started_at", admin.DateFieldListFilter)]
    # Exact matches only: a prefix-free LIKE over millions of legs would scan the table.
    search_fields = ["=sid", "=parent_sid", "=from_number", "=to_number"]
    ordering = ["-started_at"]
    inlines = [CallStatusEventInline]
    # Twilio's address of a recording is never shown: the call's page plays it through the app.
    exclude = ["recording_url"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "method", "path", "call_sid", "outcome", "response_status"]
    list_filter = ["outcome", ("received_at", admin.DateFieldListFilter)]
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
        (_("Request"), {"fields": ["request_fields", "signature"]}),
        (_("Error"), {"fields": ["error"]}),
    ]
    readonly_fields = ["request_fields"]

    @admin.display(description=_("fields"))
    def request_fields(self, obj):
        """The request's fields, a recording's Twilio address left out (the app plays it)."""
        import json

        from django.utils.html import format_html

        shown = {
            key: (str(_("(played through the app)")) if key in PRIVATE_FIELDS else value)
            for key, value in (obj.fields or {}).items()
        }
        return format_html("<pre>{}</pre>", json.dumps(shown, ensure_ascii=False, indent=2))
