"""Middleware of the whole site: requests no page can serve, headers every page carries."""

import re

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils import translation
from django.utils.module_loading import import_string


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


def webhook_csp_middleware(get_response):
    """django-csp's Content-Security-Policy (and -Report-Only) headers for the webhook chain,
    built once per chain instead of for every response: a webhook sets no per-view policy and
    uses no nonce, so the policy is the settings' every time, and the headers are the ones
    csp.middleware.CSPMiddleware writes (none on a 404 or 500 under DEBUG, none under an
    excluded prefix, none already set)."""
    from csp.constants import HEADER, HEADER_REPORT_ONLY
    from csp.utils import build_policy

    def prefixes(name):
        return tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())

    headers = [
        (HEADER, build_policy(), prefixes("CONTENT_SECURITY_POLICY")),
        (
            HEADER_REPORT_ONLY,
            build_policy(report_only=True),
            prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ),
    ]
    headers = [header for header in headers if header[1]]

    def middleware(request):
        response = get_response(request)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response
        for name, policy, excluded in headers:
            if name not in response and not request.path_info.startswith(excluded):
                response[name] = policy
        return response

    return middleware


def default_language_middleware(get_response):
    """The site's language (LANGUAGE_CODE) for a request that negotiates none: a webhook's
    thread may have served a page in another language just before."""

    def middleware(request):
        translation.activate(settings.LANGUAGE_CODE)
        return get_response(request)

    return middleware


class _WebhookHandler(BaseHandler):
    """Django's request handler with the chain of settings.WEBHOOK_MIDDLEWARE instead of
    settings.MIDDLEWARE (the same steps as BaseHandler.load_middleware, synchronous)."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.WEBHOOK_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class WebhookMiddlewareDispatch:
    """Outermost middleware: a request for a Twilio webhook path (settings.WEBHOOK_PATHS) goes
    through the slim chain of settings.WEBHOOK_MIDDLEWARE, built once per process; every other
    request through the rest of settings.MIDDLEWARE. A webhook then pays for no session,
    authentication, messages, CSRF or locale negotiation (docs/architecture.md §7)."""

    def __init__(self, get_response):
        self.get_response = get_response
        handler = _WebhookHandler()
        handler.load_middleware()
        self.webhook_chain = handler._middleware_chain
        self.webhook_paths = [re.compile(pattern) for pattern in settings.WEBHOOK_PATHS]

    def __call__(self, request):
        path = request.path_info.lstrip("/")
        if any(pattern.match(path) for pattern in self.webhook_paths):
            response = self.webhook_chain(request)
            # As CommonMiddleware does on the full chain: a sized body keeps the proxy's and
            # Twilio's connection reusable instead of a chunked one.
            if not response.streaming and not response.has_header("Content-Length"):
                response.headers["Content-Length"] = str(len(response.content))
            return response
        return self.get_response(request)
