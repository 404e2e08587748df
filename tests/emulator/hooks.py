"""A tiny HTTP app on a free loopback port for tests of the local Twilio: it records every
request (path, fields, wall-clock time) and answers TwiML set per path (default a 1 s pause)."""

import threading
import time
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


class Hooks:
    def __init__(self):
        self.requests: list[tuple[str, dict, float]] = []
        self.docs: dict[str, str] = {}
        self._server = make_server("127.0.0.1", 0, self._app, handler_class=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        fields = {k: v[0] for k, v in parse_qs(body or environ.get("QUERY_STRING", "")).items()}
        path = urlsplit(environ.get("PATH_INFO", "/")).path
        self.requests.append((path, fields, time.monotonic()))
        text = self.docs.get(path, '<Response><Pause length="1"/></Response>')
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [text.encode()]

    def to(self, path: str) -> list[dict]:
        return [fields for seen, fields, _ in self.requests if seen == path]

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; requests so far: {self.requests}")
            time.sleep(0.05)
