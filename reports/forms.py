"""Report parameters, shared by the pages, the CSV exports and the REST API."""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ivr.models import Flow
from queues.models import Queue

from .metrics import DateRange, Interval, local_today

# Reports cover these days only. Outside them date arithmetic overflows (year 1 and 9999) and
# old dates fall in the zone's local mean time (Tokyo was +09:18:59 before 1888).
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def max_range_days() -> int:
    return settings.REPORTS_MAX_RANGE_DAYS


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)],
        widget=forms.DateInput(
            attrs={"type": "date", "min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}
        ),
    )


class RangeForm(forms.Form):
    """Inclusive start and end dates in TIME_ZONE; the last 7 days when left out."""

    start = _date_field(_("From"))
    end = _date_field(_("To"))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        end = data.get("end") or local_today(timezone.now())
        start = data.get("start") or max(end - timedelta(days=6), EARLIEST_DATE)
        if start > end:
            raise forms.ValidationError(
                _("The start date is after the end date."), code="start_after_end"
            )
        if (end - start).days + 1 > max_range_days():
            raise forms.ValidationError(
                _("The range is longer than %(days)d days."),
                code="range_too_long",
                params={"days": max_range_days()},
            )
        data["start"], data["end"] = start, end
        return data

    @property
    def date_range(self) -> DateRange:
        return DateRange(self.cleaned_data["start"], self.cleaned_data["end"])

    def first_error(self) -> str:
        """One plain sentence naming what is wrong, for a 400 answer."""
        for field, errors in self.errors.items():
            label = field if field != "__all__" else ""
            return f"{label}: {errors[0]}" if label else errors[0]
        return ""


class QueueReportForm(RangeForm):
    interval = forms.ChoiceField(label=_("Interval"), choices=Interval.CHOICES, required=False)
    queue = forms.CharField(label=_("Queue"), required=False, max_length=64)

    def clean_interval(self):
        return self.cleaned_data["interval"] or Interval.DAY

    def clean_queue(self):
        slug = self.cleaned_data["queue"]
        if slug and not Queue.objects.filter(slug=slug).exists():
            raise forms.ValidationError(
                _("Unknown queue %(slug)s."), code="unknown_queue", params={"slug": slug}
            )
        return slug

    def queues(self) -> list[Queue]:
        queues = Queue.objects.order_by("slug")
        if slug := self.cleaned_data.get("queue"):
            queues = queues.filter(slug=slug)
        return list(queues)


class AbandonedFilterForm(RangeForm):
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=Queue.objects.order_by("slug"),
        required=False,
        to_field_name="slug",
        empty_label=_("All queues"),
    )
    number = forms.CharField(label=_("Caller number contains"), required=False, max_length=32)
    exclude_short = forms.BooleanField(label=_("Leave out short abandons"), required=False)

    def queues(self) -> list[Queue]:
        if queue := self.cleaned_data.get("queue"):
            return [queue]
        return list(Queue.objects.order_by("slug"))


class FunnelForm(RangeForm):
    flow = forms.TypedChoiceField(
        label=_("Flow"),
        coerce=int,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flows = {flow.pk: flow for flow in Flow.objects.order_by("name")}
        self.fields["flow"].choices = [(pk, flow.name) for pk, flow in self.flows.items()]

    def clean_flow(self):
        """The chosen flow, or the first one; None when there is no flow at all."""
        chosen = self.cleaned_data["flow"]
        if chosen in (None, ""):
            return next(iter(self.flows.values()), None)
        return self.flows[chosen]
