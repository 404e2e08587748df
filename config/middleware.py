"""Middleware of the whole site: requests no page can serve, headers every page carries."""

from django.conf import settings
from django.core.exceptions import BadRequest


class RejectNulBytesMiddleware:
    """A NUL byte in the path or the query string is a 400 for every page: PostgreSQL refuses
    NUL in text, so it could only end as a 500 in a lookup. Twilio webhooks screen their own
    requests (they answer 400 with the reason and keep the request, sanitised)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "twilio_webhook", False):
            return None
        query = request.GET.lists()
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values) for name, values in query
        ):
            raise BadRequest("NUL byte in the request")
        return None


def permissions_policy_middleware(get_response):
    """Permissions-Policy from settings.PERMISSIONS_POLICY on every response."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
