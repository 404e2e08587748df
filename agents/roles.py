"""The three roles of the call center, as Django groups, and what each may do.

The groups are created by a data migration; their permissions are re-synced after every
``migrate`` so that models added later reach the right roles without another data migration.
"""

from django.utils.translation import gettext_lazy as _

SUPERVISORS = "Supervisors"
AGENTS = "Agents"
ANALYSTS = "Analysts"
ROLES = (SUPERVISORS, AGENTS, ANALYSTS)
ROLE_LABELS = {SUPERVISORS: _("Supervisor"), AGENTS: _("Agent"), ANALYSTS: _("Analyst")}

# (app_label, actions) rules per group; actions among add/change/delete/view, "*" = all four.
# Codenames outside the four default actions (custom permissions) are listed by name.
ROLE_PERMISSIONS = {
    SUPERVISORS: [
        ("ivr", "*"),
        ("queues", "*"),
        ("agents", "*"),
        ("reports", "*"),
        ("telephony", "view"),
        # Offers ringing and bridges (written only by routing).
        ("routing", "view"),
        # Call recordings, played through the app (analysts only when granted one by one).
        ("routing", ("play_recording",)),
        ("auth", ("view_user", "add_user", "change_user")),
        ("authtoken", ("view_tokenproxy", "add_tokenproxy", "delete_tokenproxy")),
        # Login throttling (django-axes): deleting a locked-out attempt unlocks the login.
        ("axes", ("view_accessattempt", "delete_accessattempt", "view_accessfailurelog")),
    ],
    AGENTS: [
        (
            "agents",
            (
                "view_customer",
                "add_customer",
                "change_customer",
                "add_contactnote",
                "view_contactnote",
                "view_disposition",
                "view_voicemail",
            ),
        ),
        ("ivr", ("view_voicemail",)),
    ],
    ANALYSTS: [
        ("reports", "view"),
        ("queues", "view"),
        ("telephony", "view"),
        ("ivr", ("view_flow", "view_step", "view_menuoption", "view_phonenumber")),
    ],
}


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_tsunagu_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._tsunagu_roles = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    """True for a member of any of the roles; superusers have every role."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_roles(user) & set(roles))


def sync_role_permissions(*, using="default") -> None:
    from django.contrib.auth.models import Group, Permission

    for group_name, rules in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = Permission.objects.using(using).none()
        for app_label, actions in rules:
            perms = Permission.objects.using(using).filter(content_type__app_label=app_label)
            if actions == "*":
                wanted |= perms
            elif isinstance(actions, str):
                wanted |= perms.filter(codename__startswith=f"{actions}_")
            else:
                wanted |= perms.filter(codename__in=actions)
        group.permissions.set(wanted)
