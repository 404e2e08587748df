"""Response headers every page carries."""

from django.conf import settings


def permissions_policy_middleware(get_response):
    """Permissions-Policy from settings.PERMISSIONS_POLICY on every response."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
