"""How the emulator's requests reach the app: in-process (Django test client) or over HTTP."""

import ipaddress
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

# Twilio waits at most 15 s for a whole answer (docs/twilio.md §1).
REQUEST_TIMEOUT_SECONDS = 15.0


class TransportTimeout(Exception):
    """The app did not answer within the timeout (Twilio error 11205)."""


class TransportFailure(Exception):
    """The app could not be reached at all (Twilio error 11200)."""


@dataclass
class TransportResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    elapsed: float = 0.0  # wall-clock seconds the app took
    cookies: dict[str, str | None] = field(default_factory=dict)  # None: delete the cookie

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    def text(self) -> str:
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        return self.body.decode(charset, errors="replace")


def _cookie_changes(cookie: SimpleCookie) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for name, morsel in cookie.items():
        expired = str(morsel["max-age"]).strip() == "0" or "1970" in str(morsel["expires"])
        changes[name] = None if expired else morsel.value
    return changes


class DjangoTransport:
    """Sends each request through ``django.test.Client`` to the app in this process."""

    base_url = "http://testserver"

    def __init__(self, client=None, *, timeout: float = REQUEST_TIMEOUT_SECONDS):
        if client is None:
            from django.test import Client

            # A view that raises must look like Twilio sees it: a 500, not an exception here.
            client = Client(raise_request_exception=False)
        self.client = client
        self.timeout = timeout

    def send(self, method: str, url: str, *, body: bytes, headers: dict[str, str]):
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        # Cookies belong to one call (the emulator keeps them per leg), never to this client.
        extra = {"HTTP_HOST": parts.netloc.rsplit("@", 1)[-1], "HTTP_COOKIE": ""}
        for name, value in headers.items():
            if name.lower() == "content-type":
                continue
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        started = time.monotonic()
        response = self.client.generic(
            method,
            path,
            data=body,
            content_type=headers.get("Content-Type", "application/x-www-form-urlencoded"),
            secure=parts.scheme == "https",
            **extra,
        )
        elapsed = time.monotonic() - started
        if elapsed > self.timeout:
            raise TransportTimeout(f"{url} took {elapsed:.1f} s")
        content = b"" if getattr(response, "streaming", False) else response.content
        if getattr(response, "streaming", False):
            content = b"".join(response.streaming_content)
        self.client.cookies = SimpleCookie()
        return TransportResponse(
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=content,
            elapsed=elapsed,
            cookies=_cookie_changes(response.cookies),
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the emulator follows redirects itself, re-signing each hop


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpTransport:
    """Sends real HTTP requests (stdlib urllib) to a running server on this machine."""

    def __init__(self, base_url: str, *, timeout: float = REQUEST_TIMEOUT_SECONDS):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        if not _is_loopback(parts.hostname):
            raise ValueError(f"HttpTransport only talks to this machine, not {parts.hostname!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def send(self, method: str, url: str, *, body: bytes, headers: dict[str, str]):
        host = urlsplit(url).hostname or ""
        if not _is_loopback(host):
            raise TransportFailure(f"refusing to send a request off this machine: {url}")
        request = urllib.request.Request(
            url, data=body if method != "GET" else None, method=method, headers=headers
        )
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw_headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, raw_headers = error.code, error.headers
            content = error.read() if error.fp else b""
        except TimeoutError as error:
            raise TransportTimeout(str(error)) from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise TransportTimeout(str(error.reason)) from error
            raise TransportFailure(str(error.reason)) from error
        except (ConnectionError, OSError) as error:
            raise TransportFailure(str(error)) from error
        cookie = SimpleCookie()
        for value in raw_headers.get_all("Set-Cookie") or []:
            try:
                cookie.load(value)
            except CookieError:
                continue
        return TransportResponse(
            status=status,
            headers={name.lower(): value for name, value in raw_headers.items()},
            body=content,
            elapsed=time.monotonic() - started,
            cookies=_cookie_changes(cookie),
        )
