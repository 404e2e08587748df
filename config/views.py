import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from agents.roles import AGENTS, ANALYSTS, ROLE_LABELS, SUPERVISORS, user_has_role

logger = logging.getLogger(__name__)

# Where each role works, most specific first: a person with several roles lands on the first.
ROLE_HOMES = [
    (AGENTS, "agents:desk"),
    (ANALYSTS, "reports:index"),
    (SUPERVISORS, "admin:index"),
]


def _place(url_name):
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


@login_required
def home(request):
    if not request.user.is_superuser:
        for role, url_name in ROLE_HOMES:
            if user_has_role(request.user, role) and (url := _place(url_name)):
                return redirect(url)
    places = [
        (ROLE_LABELS[role], url)
        for role, url_name in ROLE_HOMES
        if user_has_role(request.user, role) and (url := _place(url_name))
    ]
    return render(request, "home.html", {"places": places})


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
