from agents.roles import AGENTS, ANALYSTS, SUPERVISORS, user_has_role


def roles(request):
    user = request.user
    return {
        "is_supervisor": user_has_role(user, SUPERVISORS),
        "is_agent": user_has_role(user, AGENTS),
        "is_analyst": user_has_role(user, ANALYSTS, SUPERVISORS),
    }
