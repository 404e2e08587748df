import io

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from telephony.phone import PhoneNumberFormField

from .forms import CustomerImportForm
from .models import (
    Agent,
    AgentStatus,
    AgentStatusInterval,
    ContactNote,
    Customer,
    DialPrefix,
    Disposition,
    NumberType,
    QueueMembership,
)
from .phone import to_e164
from .roles import AGENTS, user_has_role
from .selectors import customers_export_csv
from .services import agent_set_status, customers_import_csv


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = ("user", "identity", "phone_number", "is_active", "auto_answer")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user is not None and not user_has_role(user, AGENTS):
            # Without the role the softphone and its token are refused: say so now.
            raise forms.ValidationError(_("Add this user to the Agents group first."))
        return user


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 1
    fields = ("queue", "priority")
    autocomplete_fields = ()


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = ("identity", "user", "status", "status_changed_at", "phone_number", "is_active")
    list_filter = ("status", "is_active", "queues")
    list_select_related = ("user",)
    search_fields = (
        "identity",
        "user__username",
        "user__first_name",
        "user__last_name",
        "phone_number",
    )
    raw_id_fields = ("user",)
    inlines = [QueueMembershipInline]
    fieldsets = (
        (None, {"fields": ("user", "identity", "phone_number", "is_active", "auto_answer")}),
        (
            _("Presence"),
            {
                "fields": (
                    "status",
                    "status_changed_at",
                    "wrap_up_until",
                    "missed_until",
                    "current_call_sid",
                    "current_visit",
                ),
                "description": _(
                    "Presence follows the agent's calls and the softphone; use the "
                    "“Set offline” action to free a stuck agent."
                ),
            },
        ),
    )
    # Presence is written only through agent_set_status, so that its history stays whole.
    readonly_fields = (
        "status",
        "status_changed_at",
        "wrap_up_until",
        "missed_until",
        "current_call_sid",
        "current_visit",
    )
    actions = ["set_offline"]

    @admin.action(description=_("Set offline"), permissions=["change"])
    def set_offline(self, request, queryset):
        now = timezone.now()
        for agent in queryset:
            agent_set_status(agent=agent, status=AgentStatus.OFFLINE, now=now)
        self.message_user(
            request,
            ngettext("%d agent set offline.", "%d agents set offline.", len(queryset))
            % len(queryset),
        )


@admin.register(AgentStatusInterval)
class AgentStatusIntervalAdmin(admin.ModelAdmin):
    list_display = ("agent", "status", "started_at", "ended_at")
    list_filter = ("status", "agent")
    list_select_related = ("agent",)
    date_hierarchy = "started_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("name",)


class DialPrefixAdminForm(forms.ModelForm):
    number_types = forms.MultipleChoiceField(
        label=_("number types"),
        choices=NumberType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Kinds of numbers under this prefix agents may call. Premium-rate, shared-cost and "
            "universal access numbers are how toll fraud makes money: leave them off."
        ),
    )

    class Meta:
        model = DialPrefix
        fields = ("prefix", "description", "number_types", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["number_types"] = sorted(self.instance.number_type_set)

    def clean_number_types(self):
        return ",".join(self.cleaned_data["number_types"])


@admin.register(DialPrefix)
class DialPrefixAdmin(admin.ModelAdmin):
    form = DialPrefixAdminForm
    list_display = ("prefix", "description", "number_types", "is_active")
    list_editable = ("is_active",)
    search_fields = ("prefix", "description")


class CustomerAdminForm(forms.ModelForm):
    phone_number = PhoneNumberFormField(
        label=_("phone number"),
        help_text=_("As you would dial it (090-1234-5678) or with + and the country code."),
    )

    class Meta:
        model = Customer
        fields = ("phone_number", "name", "company", "email", "is_vip", "notes")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("phone_number", "name", "company", "email", "is_vip", "updated_at")
    search_fields = ("name", "company", "email", "phone_number")
    fields = ("phone_number", "name", "company", "email", "is_vip", "notes")
    change_list_template = "admin/agents/customer/change_list.html"
    actions = ["export_csv"]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A number typed the domestic way (090-…) still finds its E.164 record.
        e164 = to_e164(search_term)
        if e164:
            queryset |= self.model.objects.filter(phone_number=e164)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        obj.phone_number = to_e164(obj.phone_number) or obj.phone_number
        super().save_model(request, obj, form, change)

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_csv_view),
                name="agents_customer_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_csv_view),
                name="agents_customer_export",
            ),
        ]
        return urls + super().get_urls()

    def _csv_response(self, customers) -> HttpResponse:
        out = io.StringIO()
        customers_export_csv(customers=customers, out=out)
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="customers.csv"'
        return response

    @admin.action(description=_("Export selected customers as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return self._csv_response(queryset.order_by("phone_number"))

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            return redirect("admin:index")
        return self._csv_response(Customer.objects.order_by("phone_number"))

    def import_csv_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            return redirect("admin:index")
        form = CustomerImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            result = customers_import_csv(data=form.cleaned_data["file"].read())
            self.message_user(
                request,
                _("%(created)d created, %(updated)d updated.")
                % {"created": result.created, "updated": result.updated},
            )
            for error in result.errors:
                self.message_user(request, error, level=messages.WARNING)
            return redirect(reverse("admin:agents_customer_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Import customers from CSV"),
        }
        return render(request, "admin/agents/customer/import.html", context)


@admin.register(ContactNote)
class ContactNoteAdmin(admin.ModelAdmin):
    list_display = ("created_at", "agent", "customer", "phone_number", "disposition", "queue")
    list_filter = ("disposition", "queue", "agent")
    list_select_related = ("agent", "customer", "disposition", "queue")
    search_fields = ("phone_number", "customer__name", "text", "call_sid")
    raw_id_fields = ("customer", "agent")
    date_hierarchy = "created_at"


# User accounts and API tokens, scoped for supervisors (registered on import).
from . import admin_users  # noqa: E402, F401
