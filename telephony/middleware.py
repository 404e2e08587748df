"""Behind a trusted proxy, one public origin for everything: signature checks and every URL the
app builds with request.build_absolute_uri()."""

from django.conf import settings

DEFAULT_PORTS = {"http": "80", "https": "443"}


def first_value(value: str) -> str:
    # A chain of proxies appends: the first value is what the client (Twilio) used.
    return value.split(",")[0].strip()


def trusted_proxy_middleware(get_response):
    """With TRUSTED_PROXY, reduce X-Forwarded-Host to the client's host and add a non-default
    X-Forwarded-Port to it, so that Django's get_host() (USE_X_FORWARDED_HOST) gives the host
    and port Twilio requested. Must come first: SecurityMiddleware already reads the host."""

    def middleware(request):
        if settings.TRUSTED_PROXY:
            meta = request.META
            host = first_value(meta.get("HTTP_X_FORWARDED_HOST", ""))
            if host:
                scheme = first_value(meta.get("HTTP_X_FORWARDED_PROTO", "")) or request.scheme
                port = first_value(meta.get("HTTP_X_FORWARDED_PORT", ""))
                has_port = ":" in host.rsplit("]", 1)[-1]
                if port and not has_port and port != DEFAULT_PORTS.get(scheme):
                    host = f"{host}:{port}"
                meta["HTTP_X_FORWARDED_HOST"] = host
        return get_response(request)

    return middleware
