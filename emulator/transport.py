"""How the emulator's requests reach the app: in-process (its WSGI handler) or over HTTP."""

import io
import ipaddress
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import unquote_to_bytes, urlsplit

# Twilio waits at most 15 s for a whole answer (docs/twilio.md §1).
REQUEST_TIMEOUT_SECONDS = 15.0


class TransportTimeout(Exception):
    """The app did not answer within the timeout (Twilio error 11205)."""


class TransportFailure(Exception):
    """The app could not be reached at all (Twilio error 11205, connection failure)."""


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
    """Hands each request to this process's Django application (its WSGI handler), in-process.

    Nothing of Django's test machinery: the request goes through the same middleware and views
    as one from a server, and a view that raises answers 500 as Twilio would see it. No
    request_started/finished signals are sent, so the caller's database connection (and any
    transaction it is in) is left alone. ``environ`` adds WSGI environ entries to every request
    (names without the ``HTTP_`` prefix, which no client can send); ``per_request``, a callable
    returning more such entries, is asked at each request (e.g. the virtual time of the request).
    """

    base_url = "http://testserver"

    def __init__(
        self,
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        environ: dict | None = None,
        per_request=None,
    ):
        self.timeout = timeout
        self.environ = dict(environ or {})
        self.per_request = per_request
        self._handler = None

    @property
    def handler(self):
        if self._handler is None:
            from django.core.handlers.wsgi import WSGIHandler

            self._handler = WSGIHandler()
        return self._handler

    def _environ(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.netloc.rsplit("@", 1)[-1]
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("iso-8859-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "testserver",
            "SERVER_PORT": str(parts.port or (443 if secure else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            # Cookies belong to one call (the emulator keeps them per leg).
            "HTTP_COOKIE": "",
            "HTTP_HOST": host,
        }
        for name, value in headers.items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        environ.update(self.environ)
        if self.per_request is not None:
            environ.update(self.per_request())
        return environ

    def send(self, method: str, url: str, *, body: bytes, headers: dict[str, str]):
        from django.core.handlers.wsgi import get_script_name
        from django.urls import set_script_prefix

        environ = self._environ(method, url, body, headers)
        handler = self.handler
        started = time.monotonic()
        set_script_prefix(get_script_name(environ))
        response = handler.get_response(handler.request_class(environ))
        if getattr(response, "streaming", False):
            content = b"".join(response.streaming_content)
        else:
            content = response.content
        elapsed = time.monotonic() - started
        if elapsed > self.timeout:
            raise TransportTimeout(f"{url} took {elapsed:.1f} s")
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
