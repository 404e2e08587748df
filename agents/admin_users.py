"""User accounts and API tokens in the admin, scoped to what a supervisor may manage.

Superusers keep Django's stock screens. A supervisor (staff, in the Supervisors group, holding
``auth.change_user``) manages agents and analysts only: accounts that are neither superusers,
staff nor supervisors are listed, opened and given passwords; the superuser and staff flags and
raw permissions are not on the form; the only groups offered are Agents and Analysts. API tokens:
a supervisor sees and issues only their own.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .roles import AGENTS, ANALYSTS, SUPERVISORS

User = get_user_model()

# The groups a supervisor may hand out.
MANAGED_ROLES = (AGENTS, ANALYSTS)


def managed_users(queryset):
    """The accounts a supervisor may manage: never a superuser, staff or another supervisor."""
    return queryset.exclude(Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name=SUPERVISORS))


class ScopedUserAdmin(UserAdmin):
    supervisor_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles"), {"fields": ("is_active", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return managed_users(queryset)

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.supervisor_fieldsets

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return super().get_list_filter(request)
        return ("is_active", "groups")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "groups" and request is not None and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=MANAGED_ROLES)
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not request.user.is_superuser:
            # Belt and braces: whatever was posted, a supervisor's edit leaves the account
            # without the powers a supervisor may not grant.
            user = form.instance
            user.user_permissions.clear()
            user.groups.remove(*user.groups.exclude(name__in=MANAGED_ROLES))
            if user.is_staff or user.is_superuser:
                User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)


class OwnTokenAdmin(TokenAdmin):
    """A supervisor sees and issues only their own API token; a superuser sees them all."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(User)
admin.site.register(User, ScopedUserAdmin)
admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, OwnTokenAdmin)
