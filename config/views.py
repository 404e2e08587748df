import logging

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from agents.roles import AGENTS, ANALYSTS, ROLE_LABELS, SUPERVISORS, user_has_role

logger = logging.getLogger(__name__)

# Where each role works: a person with several roles lands on the first. A supervisor with a
# softphone of their own (in the Agents group too, to listen to calls) still lands on the admin
# and sees the home page; an agent who is also an analyst lands on the desk.
ROLE_HOMES = [
    (SUPERVISORS, "admin:index"),
    (AGENTS, "agents:desk"),
    (ANALYSTS, "reports:index"),
]

# The pages of the home page, and who may open each.
PAGES = [
    (_("Softphone"), "agents:desk", (AGENTS,)),
    (_("Customers"), "agents:customers", (AGENTS,)),
    (_("Wallboard"), "reports:wallboard", (ANALYSTS, SUPERVISORS)),
    (_("Team"), "supervisor-team", (SUPERVISORS,)),
    (_("Reports"), "reports:index", (ANALYSTS, SUPERVISORS)),
    (_("Voicemails"), "voicemails", (AGENTS, SUPERVISORS)),
    (_("Administration"), "admin:index", (SUPERVISORS,)),
]


def _place(url_name):
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def role_home(user) -> str | None:
    """The page a person's first role works in."""
    for role, url_name in ROLE_HOMES:
        if user_has_role(user, role) and (url := _place(url_name)):
            return url
    return None


class RoleLoginView(LoginView):
    """After logging in (with no ?next=), each role lands where it works."""

    def get_default_redirect_url(self):
        return role_home(self.request.user) or super().get_default_redirect_url()


@login_required
def home(request):
    """Agents and analysts are sent to their page; supervisors (whose "View site" in the
    admin leads here) and superusers see every page they may open."""
    user = request.user
    if not user.is_superuser and not user_has_role(user, SUPERVISORS):
        for role, url_name in ROLE_HOMES:
            if user_has_role(user, role) and (url := _place(url_name)):
                return redirect(url)
    places = [
        (ROLE_LABELS[role], url)
        for role, url_name in ROLE_HOMES
        if user_has_role(user, role) and (url := _place(url_name))
    ]
    pages = [
        (label, url)
        for label, url_name, roles in PAGES
        if user_has_role(user, *roles) and (url := _place(url_name))
    ]
    return render(request, "home.html", {"places": places, "pages": pages})


def healthz(request):
    """For load balancers and monitors: 200 when the database answers, 503 when it does not
    (within DATABASE_CONNECT_TIMEOUT / DATABASE_STATEMENT_TIMEOUT)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.error("health check: the database does not answer: %s", exc)
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    return JsonResponse({"status": "ok"})
