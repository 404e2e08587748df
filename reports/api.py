"""The report API of docs/api.md §4: /api/reports/queues/, /api/reports/agents/, /api/wallboard/.

The rows come straight from reports.metrics; the serializers below describe them for the
OpenAPI schema (and are what a client can rely on), they do not recompute anything.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from agents.roles import ANALYSTS, SUPERVISORS, user_has_role

from . import metrics, selectors
from .forms import EARLIEST_DATE, LATEST_DATE, QueueReportForm, RangeForm
from .routers import replica_reads


class IsReportReader(BasePermission):
    """Analysts and supervisors (and superusers) read reports; nobody else."""

    def has_permission(self, request, view):
        return user_has_role(request.user, ANALYSTS, SUPERVISORS)


class QueueRowSerializer(serializers.Serializer):
    queue = serializers.CharField(help_text=_("Twilio queue name (slug)."))
    period_start = serializers.DateTimeField(help_text=_("Start of the bucket, in TIME_ZONE."))
    offered = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    short_abandoned = serializers.IntegerField()
    overflowed = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text=_("queue-full refusals (not offered)."))
    abandon_rate = serializers.FloatField(allow_null=True)
    asa_seconds = serializers.FloatField(allow_null=True)
    service_level = serializers.FloatField(allow_null=True)
    service_level_seconds = serializers.IntegerField()
    aht_seconds = serializers.FloatField(allow_null=True)
    longest_wait_seconds = serializers.IntegerField(allow_null=True)
    transferred_in = serializers.IntegerField(
        help_text=_("Visits opened in the queue by an agent's transfer.")
    )
    transferred_out = serializers.IntegerField(
        help_text=_("Callers of the queue an agent transferred on (to a queue, agent or number).")
    )
    callbacks_requested = serializers.IntegerField(
        help_text=_("Callbacks requested in the period (dated by the request).")
    )
    callbacks_connected = serializers.IntegerField(help_text=_("Of those, connected to an agent."))
    callbacks_failed = serializers.IntegerField(
        help_text=_("Of those, failed after the queue's attempts.")
    )


class AgentRowSerializer(serializers.Serializer):
    agent = serializers.CharField(help_text=_("The agent's client identity."))
    answered = serializers.IntegerField()
    talk_seconds = serializers.IntegerField()
    aht_seconds = serializers.FloatField(allow_null=True)
    available_seconds = serializers.IntegerField()
    occupancy = serializers.FloatField(allow_null=True)
    offers = serializers.IntegerField(help_text=_("Rings of push routing that began in the range."))
    missed = serializers.IntegerField(help_text=_("Offers the agent let ring out."))
    rejected = serializers.IntegerField(help_text=_("Offers the agent declined."))
    ring_seconds_avg = serializers.FloatField(
        allow_null=True, help_text=_("Mean seconds from an offer to its end.")
    )
    hold_seconds = serializers.IntegerField(
        help_text=_("Seconds callers spent on hold the agent put them on (counted in AHT).")
    )
    transfers_out = serializers.IntegerField(help_text=_("Callers the agent transferred on."))


class WallboardRowSerializer(serializers.Serializer):
    queue = serializers.CharField()
    name = serializers.CharField()
    waiting = serializers.IntegerField()
    longest_wait_seconds = serializers.IntegerField(allow_null=True)
    agents_available = serializers.IntegerField()
    agents_on_call = serializers.IntegerField()
    agents_wrap_up = serializers.IntegerField()
    agents_ringing = serializers.IntegerField(
        help_text=_("Agents whose softphone rings for a caller of this queue now.")
    )
    callbacks_waiting = serializers.IntegerField(
        help_text=_("Callbacks requested and not yet connected or failed.")
    )
    offered = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    service_level = serializers.FloatField(allow_null=True)
    service_level_seconds = serializers.IntegerField()


def _report(name, rows_serializer, **extra):
    return inline_serializer(
        name,
        {
            "start": serializers.DateField(),
            "end": serializers.DateField(),
            **extra,
            "time_zone": serializers.CharField(),
            "rows": rows_serializer(many=True),
        },
    )


def _date_param(name, description):
    # OpenAPI has no bounds for dates: the pattern holds the years allowed (EARLIEST_DATE's to
    # LATEST_DATE's), so that a client, and a fuzzer, knows 0001-01-01 is out of range.
    assert (EARLIEST_DATE.year, LATEST_DATE.year) == (2000, 2099)
    return OpenApiParameter(
        name,
        {"type": "string", "format": "date", "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"},
        description=description,
    )


DATE_LIMITS = format_lazy(
    _(
        "Dates from {earliest} to {latest}; start not after end; at most {days} days "
        "from start to end inclusive (REPORTS_MAX_RANGE_DAYS). Otherwise 400."
    ),
    days=settings.REPORTS_MAX_RANGE_DAYS,
    earliest=EARLIEST_DATE.isoformat(),
    latest=LATEST_DATE.isoformat(),
)
DATE_PARAMS = [
    _date_param("start", _("First day, in TIME_ZONE (default: 6 days before end).")),
    _date_param("end", _("Last day, inclusive (default: today).")),
]
BAD_REQUEST = OpenApiResponse(
    inline_serializer("BadRequest", {"detail": serializers.CharField()}),
    description=_("A parameter is malformed or out of range; detail says which."),
)


def _blank_parameter(request, names) -> Response | None:
    """A parameter that is present but empty is an error in the API (a page's form may leave a
    field blank; a client that sends ``start=`` meant something and must hear it did not work)."""
    for name in names:
        if name in request.query_params and not request.query_params[name].strip():
            return Response(
                {"detail": f"{name}: {_('This parameter may not be empty.')}"}, status=400
            )
    return None


def _bad_request(form):
    return Response(
        {"detail": form.first_error(), "errors": form.errors.get_json_data()}, status=400
    )


@extend_schema(
    summary=_("Queue report"),
    description=DATE_LIMITS,
    parameters=[
        *DATE_PARAMS,
        OpenApiParameter(
            "interval",
            OpenApiTypes.STR,
            enum=metrics.Interval.VALUES,
            description=_("Bucket size (default: day)."),
        ),
        OpenApiParameter(
            "queue", OpenApiTypes.STR, description=_("One queue's slug (default: all).")
        ),
    ],
    responses={
        200: _report("QueueReport", QueueRowSerializer, interval=serializers.CharField()),
        400: BAD_REQUEST,
    },
)
@api_view(["GET"])
@permission_classes([IsReportReader])
@replica_reads
def queue_report(request):
    if blank := _blank_parameter(request, ("start", "end", "interval")):
        return blank
    form = QueueReportForm(request.query_params)
    if not form.is_valid():
        return _bad_request(form)
    date_range, interval = form.date_range, form.cleaned_data["interval"]
    rows = metrics.queue_report(date_range=date_range, interval=interval, queues=form.queues())
    return Response(
        {
            "start": date_range.start.isoformat(),
            "end": date_range.end.isoformat(),
            "interval": interval,
            "time_zone": settings.TIME_ZONE,
            "rows": rows,
        }
    )


@extend_schema(
    summary=_("Agent report"),
    description=DATE_LIMITS,
    parameters=DATE_PARAMS,
    responses={200: _report("AgentReport", AgentRowSerializer), 400: BAD_REQUEST},
)
@api_view(["GET"])
@permission_classes([IsReportReader])
@replica_reads
def agent_report(request):
    if blank := _blank_parameter(request, ("start", "end")):
        return blank
    form = RangeForm(request.query_params)
    if not form.is_valid():
        return _bad_request(form)
    date_range = form.date_range
    rows = metrics.agent_report(date_range=date_range, now=timezone.now())
    return Response(
        {
            "start": date_range.start.isoformat(),
            "end": date_range.end.isoformat(),
            "time_zone": settings.TIME_ZONE,
            "rows": rows,
        }
    )


@extend_schema(
    summary=_("Wallboard: each queue now, and today so far"),
    responses=inline_serializer(
        "Wallboard",
        {
            "at": serializers.DateTimeField(),
            "time_zone": serializers.CharField(),
            "rows": WallboardRowSerializer(many=True),
        },
    ),
)
@api_view(["GET"])
@permission_classes([IsReportReader])
@replica_reads
def wallboard(request):
    now = timezone.now()
    rows = metrics.wallboard(now=now, queues=selectors.all_queues())
    return Response(
        {
            "at": now.astimezone(metrics.report_zone()).isoformat(),
            "time_zone": settings.TIME_ZONE,
            "rows": rows,
        }
    )
