"""Behind a trusted proxy, one public origin for everything: signature checks and every URL the
app builds with request.build_absolute_uri()."""

import time

from django.conf import settings

DEFAULT_PORTS = {"http": "80", "https": "443"}


def first_value(value: str) -> str:
    # A chain of proxies appends: the first value is what the client (Twilio) used.
    return value.split(",")[0].strip()


def _forwarded_origin(request) -> tuple[str, str]:
    """The scheme and host[:port] the client asked the trusted proxy for, from
    X-Forwarded-Proto / -Host / -Port (each falling back to what this request says)."""
    meta = request.META
    scheme = first_value(meta.get("HTTP_X_FORWARDED_PROTO", "")) or request.scheme
    host = first_value(meta.get("HTTP_X_FORWARDED_HOST", "")) or meta.get("HTTP_HOST", "")
    port = first_value(meta.get("HTTP_X_FORWARDED_PORT", ""))
    has_port = ":" in host.rsplit("]", 1)[-1]
    if port and not has_port and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return scheme, host


def public_url(request) -> str:
    """The URL Twilio requested, as it signed it.

    Without TRUSTED_PROXY the request is taken as Twilio sent it. Behind a trusted proxy the
    scheme, host and port come from X-Forwarded-Proto / -Host / -Port.
    """
    if not settings.TRUSTED_PROXY:
        return request.build_absolute_uri()
    scheme, host = _forwarded_origin(request)
    return f"{scheme}://{host}{request.get_full_path()}"


def trusted_proxy_middleware(get_response):
    """With TRUSTED_PROXY, reduce X-Forwarded-Host to the client's host and add a non-default
    X-Forwarded-Port to it, so that Django's get_host() (USE_X_FORWARDED_HOST) gives the host
    and port Twilio requested. Must come first: SecurityMiddleware already reads the host."""

    def middleware(request):
        forwarded_host = first_value(request.META.get("HTTP_X_FORWARDED_HOST", ""))
        if settings.TRUSTED_PROXY and forwarded_host:
            request.META["HTTP_X_FORWARDED_HOST"] = _forwarded_origin(request)[1]
        return get_response(request)

    return middleware


def proxy_queue_ms(request, now: float | None = None) -> float | None:
    """How long ago (ms) the trusted reverse proxy received this request, from its
    ``X-Request-Start: t=<time>`` (nginx: ``t=${msec}``, seconds with a fraction; milliseconds
    and microseconds since the epoch are read too). None without TRUSTED_PROXY (anyone could
    send the header) or without a readable header."""
    if not settings.TRUSTED_PROXY:
        return None
    raw = request.META.get("HTTP_X_REQUEST_START", "").strip()
    raw = raw.removeprefix("t=")
    try:
        stamp = float(raw)
    except ValueError:
        return None
    if stamp > 1e14:  # microseconds
        stamp /= 1_000_000
    elif stamp > 1e11:  # milliseconds
        stamp /= 1000
    now = time.time() if now is None else now
    return max(0.0, (now - stamp) * 1000)
