from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.generators import SchemaGenerator

from agents.roles import ANALYSTS, SUPERVISORS, user_has_role
from config.security import csv_writer

from . import metrics, selectors
from .forms import AbandonedFilterForm, FunnelForm, QueueReportForm, RangeForm
from .routers import replica_reads


def report_reader_required(view):
    """Logged-in analysts, supervisors and superusers; anyone else logged in gets 403. The
    report's reads go to the read replica when one is configured (reports/routers.py)."""

    @login_required
    @wraps(view)
    @replica_reads
    def wrapped(request, *args, **kwargs):
        if not user_has_role(request.user, ANALYSTS, SUPERVISORS):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte-order mark makes Excel read the UTF-8 (Japanese names) correctly.
    response.write("\ufeff")
    writer = csv_writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _wants_csv(request) -> bool:
    return request.GET.get("export") == "csv"


QUEUE_COLUMNS = [
    "queue",
    "period_start",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "rejected",
    "abandon_rate",
    "asa_seconds",
    "service_level",
    "service_level_seconds",
    "aht_seconds",
    "longest_wait_seconds",
    "transferred_in",
    "transferred_out",
    "callbacks_requested",
    "callbacks_connected",
    "callbacks_failed",
]
AGENT_COLUMNS = [
    "agent",
    "answered",
    "talk_seconds",
    "aht_seconds",
    "available_seconds",
    "occupancy",
    # Push routing's rings (appended, so the earlier columns keep their places).
    "offers",
    "missed",
    "rejected",
    "ring_seconds_avg",
]


@report_reader_required
def index(request):
    """The queue report: the page analysts land on."""
    form = QueueReportForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "reports/queues.html", {"form": form, "rows": None}, status=400)
    if not request.GET:
        form = QueueReportForm({})
        form.is_valid()
    date_range, interval = form.date_range, form.cleaned_data["interval"]
    queues = form.queues()
    rows = metrics.queue_report(date_range=date_range, interval=interval, queues=queues)
    queue_names = {queue.slug: queue.name for queue in queues}
    if _wants_csv(request):
        # The slug for programs (as the API); the name for people, last so that the columns
        # keep their places.
        return csv_response(
            f"queues-{date_range.start}-{date_range.end}-{interval}.csv",
            [*QUEUE_COLUMNS, "queue_name"],
            (
                [row[column] for column in QUEUE_COLUMNS]
                + [queue_names.get(row["queue"], row["queue"])]
                for row in rows
            ),
        )
    return render(
        request,
        "reports/queues.html",
        {
            "form": form,
            "rows": rows,
            "date_range": date_range,
            "interval": interval,
            "chart_labels": {
                "offered": _("offered"),
                "answered": _("answered"),
                "abandoned": _("abandoned"),
                "threshold": _("threshold"),
                "interval": interval,
                "queue_names": queue_names,
            },
            "queue_names": queue_names,
            "totals": metrics.queue_report(
                date_range=date_range, interval=metrics.Interval.TOTAL, queues=queues
            ),
        },
    )


@report_reader_required
def agents(request):
    form = RangeForm(request.GET or {})
    if not form.is_valid():
        return render(request, "reports/agents.html", {"form": form, "rows": None}, status=400)
    date_range = form.date_range
    rows = metrics.agent_report(date_range=date_range, now=timezone.now())
    if _wants_csv(request):
        return csv_response(
            f"agents-{date_range.start}-{date_range.end}.csv",
            AGENT_COLUMNS,
            ([row[column] for column in AGENT_COLUMNS] for row in rows),
        )
    return render(
        request, "reports/agents.html", {"form": form, "rows": rows, "date_range": date_range}
    )


@report_reader_required
def abandoned(request):
    form = AbandonedFilterForm(request.GET or {})
    if not form.is_valid():
        return render(request, "reports/abandoned.html", {"form": form, "page": None}, status=400)
    visits = selectors.abandoned_visits(
        date_range=form.date_range,
        queues=form.queues(),
        number=form.cleaned_data["number"],
        exclude_short=form.cleaned_data["exclude_short"],
    )
    if _wants_csv(request):
        return csv_response(
            f"abandoned-{form.date_range.start}-{form.date_range.end}.csv",
            [
                "entered_at",
                "queue",
                "from",
                "to",
                "wait_seconds",
                "call_sid",
                "called_back",
                "queue_name",
            ],
            (
                [
                    timezone.localtime(visit.entered_at, metrics.report_zone()).isoformat(),
                    visit.queue.slug,
                    visit.call.from_number,
                    visit.call.to_number,
                    visit.wait_seconds,
                    visit.call.sid,
                    visit.called_back,
                    visit.queue.name,
                ]
                for visit in visits.iterator(chunk_size=2000)
            ),
        )
    page = selectors.paginate(visits, request.GET.get("page"))
    return render(
        request,
        "reports/abandoned.html",
        {"form": form, "page": page, "date_range": form.date_range},
    )


@report_reader_required
def ivr_funnel(request):
    form = FunnelForm(request.GET or {})
    if not form.is_valid():
        return render(
            request, "reports/ivr_funnel.html", {"form": form, "funnel": None}, status=400
        )
    flow, date_range = form.cleaned_data["flow"], form.date_range
    funnel = selectors.ivr_funnel(flow=flow, date_range=date_range) if flow else None
    if funnel and _wants_csv(request):
        name = f"ivr-{flow.pk}-{date_range.start}-{date_range.end}"
        if request.GET.get("table") == "keys":
            return csv_response(
                f"{name}-keys.csv",
                ["step", "key", "outcome", "times"],
                (
                    [key["step_name"], key["digits"], key["outcome"], key["times"]]
                    for key in funnel["keys"]
                ),
            )
        return csv_response(
            f"{name}-steps.csv",
            ["step", "kind", "reached", "share", "no_input", "invalid", "ended_here"],
            (
                [
                    step["step_name"],
                    step["kind"],
                    step["reached"],
                    step["share"],
                    step["no_input"],
                    step["invalid"],
                    step["ended_here"],
                ]
                for step in funnel["steps"]
            ),
        )
    return render(
        request,
        "reports/ivr_funnel.html",
        {"form": form, "funnel": funnel, "flow": flow, "date_range": date_range},
    )


@report_reader_required
def call_detail(request, sid):
    timeline = selectors.call_timeline(sid)
    if timeline is None:
        raise Http404(_("No call with this SID."))
    from routing.selectors import recordings_for_call, user_may_play_recordings

    timeline["recordings"] = list(recordings_for_call(sid))
    timeline["may_play_recordings"] = user_may_play_recordings(request.user)
    from agents.roles import SUPERVISORS, user_has_role
    from routing.models import REVIEW_CHECKLIST

    timeline["may_review"] = user_has_role(request.user, SUPERVISORS)
    timeline["review_checklist"] = REVIEW_CHECKLIST
    # The app's recordings are played through it: their Twilio address is never shown.
    timeline["private_urls"] = {r.media_url for r in timeline["recordings"] if r.media_url}
    return render(request, "reports/call_detail.html", timeline)


@report_reader_required
def call_recording_audio(request, sid):
    """The recording Twilio reported on a leg itself (``<Dial record>``, ``<Record>``: a
    voicemail), fetched by the app with the account's credentials — the call page links this,
    never Twilio. Those who may play recordings (``routing.play_recording``); others 403."""
    from routing.selectors import user_may_play_recordings
    from telephony.models import Call
    from telephony.recordings import recording_audio_response

    if not user_may_play_recordings(request.user):
        raise PermissionDenied
    call = Call.objects.filter(sid=sid).exclude(recording_url="").first()
    if call is None:
        raise Http404(_("No such recording."))
    return recording_audio_response(call.recording_url, filename=call.recording_sid or call.sid)


def wallboard_warnings(row: dict, queue) -> dict:
    """Why a queue's card warns: today's service level under the queue's target (%), or the
    longest caller now waiting past its alert threshold."""
    level = row["service_level"]
    wait = row["longest_wait_seconds"]
    return {
        "sl_low": level is not None and level * 100 < queue.service_level_target,
        "wait_long": wait is not None and wait > queue.longest_wait_alert_seconds,
    }


@report_reader_required
def wallboard(request):
    now = timezone.now()
    queues = selectors.all_queues()
    by_slug = {queue.slug: queue for queue in queues}
    today = metrics.today_figures(
        now=now, queues=queues, names=(*metrics.WALLBOARD_FIGURES, "overflowed")
    )
    rows = metrics.wallboard(now=now, queues=queues, today=today)
    for row in rows:
        queue = by_slug[row["queue"]]
        row["overflowed"] = today[queue.pk]["overflowed"]
        row["service_level_target"] = queue.service_level_target
        row["longest_wait_alert_seconds"] = queue.longest_wait_alert_seconds
        row.update(wallboard_warnings(row, queue))
    return render(
        request,
        "reports/wallboard.html",
        {"rows": rows, "now": now, "today_url": reverse("reports:wallboard-today")},
    )


@report_reader_required
def wallboard_today(request):
    """The wallboard page's own figures beside /api/wallboard/: today's overflow per queue."""
    queues = selectors.all_queues()
    overflowed = metrics.overflowed_today(now=timezone.now(), queues=queues)
    return JsonResponse(
        {"rows": [{"queue": q.slug, "overflowed": overflowed.get(q.pk, 0)} for q in queues]}
    )


def api_docs(request):
    """The OpenAPI schema as a plain page (no JavaScript from anywhere)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return render(
        request,
        "reports/api_docs.html",
        {
            "schema": schema,
            "operations": selectors.schema_operations(schema),
        },
    )
