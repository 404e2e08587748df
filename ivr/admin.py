"""Call flows in the admin: a flow with its steps, menu options and numbers on one page, an
outline of the flow, and "Try this flow"."""

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .forms import (
    FlowForm,
    MenuOptionForm,
    MenuOptionFormSet,
    PhoneNumberForm,
    StepForm,
    StepFormSet,
    StepTargetField,
    new_step_choice,
    submitted_steps,
)
from .models import (
    KIND_FIELDS,
    STEP_FIELD_NAMES,
    STEP_TARGET_FIELDS,
    BusinessHours,
    CallPathEntry,
    Flow,
    Holiday,
    MenuOption,
    OpeningRange,
    PhoneNumber,
    Step,
    Voicemail,
)
from .outline import flow_outline
from .selectors import build_snapshot
from .services import flow_touch, schedule_touch
from .tryout import SILENCE, flow_try, parse_keys
from .validation import flow_warnings

STEP_CHOICE_FIELDS = STEP_TARGET_FIELDS


def _shared_choices(request, key: str, formfield):
    """Evaluate a select's choices once per request, not once per inline form: a flow of a
    hundred steps would otherwise cost hundreds of queries to display. A submitted page keeps
    the steps it adds as choices ("name (new)"), so a refused save shows what was chosen."""
    if formfield is None:
        return None
    cache = request.__dict__.setdefault("_ivr_choices", {})
    if key not in cache:
        choices = list(iter(formfield.choices))  # iter(): no COUNT query first
        if key in ("steps", "menus") and request.method == "POST":
            for name, row in submitted_steps(request.POST).items():
                if row["new"] and (key == "steps" or row["kind"] == Step.Kind.MENU):
                    choices.append(new_step_choice(name))
        cache[key] = choices
    formfield.choices = cache[key]
    return formfield


def _flow_steps(request):
    flow = getattr(request, "_ivr_flow", None)
    if flow is None:
        return Step.objects.none()
    return Step.objects.filter(flow=flow).order_by("name")


class StepInline(admin.StackedInline):
    model = Step
    fk_name = "flow"
    extra = 0
    classes = ["ivr-steps"]
    formset = StepFormSet
    form = StepForm
    fields = [("name", "kind"), *STEP_FIELD_NAMES]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    show_change_link = False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "caller_priority":
            # A choice of 0–9, optional: a form that does not send it keeps 0.
            return forms.TypedChoiceField(
                label=db_field.verbose_name,
                help_text=db_field.help_text,
                choices=[(number, number) for number in range(10)],
                coerce=int,
                empty_value=0,
                required=False,
                initial=0,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in STEP_CHOICE_FIELDS:
            kwargs["queryset"] = _flow_steps(request)
            kwargs["form_class"] = StepTargetField
        elif db_field.name == "goto_flow":
            kwargs["queryset"] = Flow.objects.order_by("name")
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        key = "steps" if db_field.name in STEP_CHOICE_FIELDS else db_field.name
        return _shared_choices(request, key, formfield)


class MenuOptionInline(admin.TabularInline):
    model = MenuOption
    fk_name = "flow"
    extra = 0
    fields = ["step", "key", "target"]
    form = MenuOptionForm
    formset = MenuOptionFormSet
    verbose_name_plural = _("menu options")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "step":
            kwargs["queryset"] = _flow_steps(request).filter(kind=Step.Kind.MENU)
            kwargs["form_class"] = StepTargetField
        elif db_field.name == "target":
            kwargs["queryset"] = _flow_steps(request)
            kwargs["form_class"] = StepTargetField
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _shared_choices(request, "menus" if db_field.name == "step" else "steps", formfield)


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    form = PhoneNumberForm
    extra = 0
    fields = ["number", "name", "twilio_sid"]


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    form = FlowForm
    inlines = [StepInline, MenuOptionInline, PhoneNumberInline]
    list_display = ["name", "language", "voice", "start_step", "numbers_list", "updated_at"]
    list_select_related = ["start_step"]
    search_fields = ["name", "numbers__number"]
    list_filter = ["language"]
    change_form_template = "admin/ivr/flow/change_form.html"

    class Media:
        js = ["ivr/admin_steps.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("numbers")

    @admin.display(description=_("numbers"))
    def numbers_list(self, obj):
        return ", ".join(n.number for n in obj.numbers.all()) or "—"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        request._ivr_flow = obj  # the inlines' and the start step's choices: this flow's steps
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "start_step":
            kwargs["queryset"] = _flow_steps(request)
            kwargs["form_class"] = StepTargetField
            formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
            return _shared_choices(request, "steps", formfield)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        """Steps first, then every target named ``new:<name>`` (now stored), then the menu
        options (which may belong to or lead to such steps)."""
        flow = form.instance
        if formset.model is Step:
            formset.save()
            by_name = {step.name: step for step in flow.steps.all()}
            for step_form in formset.forms:
                pending = getattr(step_form, "pending", {})
                step = step_form.instance
                if not pending or step.pk is None or step_form in formset.deleted_forms:
                    continue
                for field, name in pending.items():
                    setattr(step, field, by_name[name])
                step.save(update_fields=list(pending))
        elif formset.model is MenuOption:
            formset.save(commit=False)
            for option in formset.deleted_objects:
                option.delete()
            by_name = {step.name: step for step in flow.steps.all()}
            for option_form in formset.forms:
                if option_form in formset.deleted_forms or not option_form.has_changed():
                    continue
                for field, name in getattr(option_form, "pending", {}).items():
                    setattr(option_form.instance, field, by_name[name])
                option_form.instance.save()
        else:
            formset.save()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        start = getattr(form, "pending", {}).get("start_step")
        if start:
            form.instance.start_step = form.instance.steps.get(name=start)
            form.instance.save(update_fields=["start_step"])
        flow_touch(flow=form.instance)
        for warning in flow_warnings(build_snapshot(form.instance.pk)):
            messages.warning(request, warning)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **_page_context()}
        if request.method == "GET":
            snapshot = build_snapshot(int(object_id)) if str(object_id).isdigit() else None
            if snapshot is not None:
                extra_context["flow_warnings"] = flow_warnings(snapshot)
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **_page_context()}
        return super().add_view(request, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/outline/",
                self.admin_site.admin_view(self.outline_view),
                name="ivr_flow_outline",
            ),
            path(
                "<int:object_id>/try/",
                self.admin_site.admin_view(self.try_view),
                name="ivr_flow_try",
            ),
            *super().get_urls(),
        ]

    def _flow_for(self, request, object_id, *, change=False):
        flow = get_object_or_404(Flow, pk=object_id)
        allowed = (
            self.has_change_permission(request, flow)
            if change
            else (self.has_view_or_change_permission(request, flow))
        )
        if not allowed:
            raise PermissionDenied
        return flow

    def outline_view(self, request, object_id):
        flow = self._flow_for(request, object_id)
        snapshot = build_snapshot(flow.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": flow,
            "title": _("Outline of %(flow)s") % {"flow": flow.name},
            "outline": flow_outline(snapshot),
            "warnings": flow_warnings(snapshot),
            "numbers": flow.numbers.all(),
        }
        return TemplateResponse(request, "admin/ivr/flow/outline.html", context)

    def try_view(self, request, object_id):
        """Press keys or wait, and read what the caller hears: the emulator calls the flow."""
        flow = self._flow_for(request, object_id, change=True)
        keys = parse_keys(request.GET.get("keys", ""))
        # The keypad button and the multi-key field share the name: take whichever was used.
        pressed = "".join(value.strip() for value in request.GET.getlist("press"))
        if pressed:
            keys = [*keys, *parse_keys(pressed)]
        elif "wait" in request.GET:
            keys = [*keys, SILENCE]
        at_value = request.GET.get("at", "").strip()
        at, at_error = _as_if(at_value)
        # The try's webhooks run in this thread, and each activates the language of its own
        # request (the site's default): the page keeps the supervisor's.
        with translation.override(translation.get_language()):
            result = flow_try(
                flow=flow, keys=keys, scheme=request.scheme, host=request.get_host(), at=at
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": flow,
            "title": _("Try %(flow)s") % {"flow": flow.name},
            "result": result,
            "keys": keys,
            "keys_value": ",".join(keys),
            "at_value": at_value if at is not None else "",
            "at_error": at_error,
            "time_zone": timezone.get_current_timezone_name(),
            "keypad": ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"],
            "outline_url": reverse("admin:ivr_flow_outline", args=[flow.pk]),
        }
        return TemplateResponse(request, "admin/ivr/flow/try.html", context)


def _page_context() -> dict:
    return {
        "kind_fields": KIND_FIELDS,
        "new_step_labels": {"item": str(_("%(name)s (new)")), "add": str(_("New step…"))},
    }


def _as_if(value: str) -> tuple[datetime | None, str]:
    """The "as if" date and time of a try, in the site's time zone: (moment or None, error)."""
    if not value:
        return None, ""
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        return None, _("Not a date and time: the call is placed now.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment, ""


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    form = PhoneNumberForm
    list_display = ["number", "name", "flow", "twilio_sid"]
    list_select_related = ["flow"]
    search_fields = ["number", "name"]
    autocomplete_fields = ["flow"]


class OpeningRangeInline(admin.TabularInline):
    model = OpeningRange
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "updated_at"]
    search_fields = ["name"]
    inlines = [OpeningRangeInline, HolidayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        schedule_touch(schedule=form.instance)


@admin.register(Voicemail)
class VoicemailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "caller", "flow", "duration_seconds", "recording_link"]
    list_select_related = ["flow"]
    list_filter = ["flow"]
    search_fields = ["caller", "call__sid"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    # Twilio's address of the audio is never shown: the app plays it (voicemail readers only).
    exclude = ["recording_url"]
    readonly_fields = [
        "call",
        "flow",
        "step",
        "caller",
        "recording_sid",
        "recording_link",
        "duration_seconds",
        "received_at",
    ]

    @admin.display(description=_("recording"))
    def recording_link(self, obj):
        if not obj.recording_url:
            return "—"
        url = reverse("voicemail-audio", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("listen"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallPathEntry)
class CallPathEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "call", "flow", "step_name", "kind", "digits", "outcome"]
    list_select_related = ["call", "flow"]
    list_filter = ["outcome", "kind", "flow"]
    search_fields = ["call__sid", "step_name"]
    raw_id_fields = ["call", "flow", "step"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
