from agents.roles import AGENTS, ANALYSTS, SUPERVISORS, user_has_role


def roles(request):
    # A webhook's error page (the slim chain has no authentication) is nobody's.
    user = getattr(request, "user", None)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    return {
        "is_supervisor": user_has_role(user, SUPERVISORS),
        "is_agent": user_has_role(user, AGENTS),
        "is_analyst": user_has_role(user, ANALYSTS, SUPERVISORS),
    }
