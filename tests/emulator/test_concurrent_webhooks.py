"""The local Twilio sends the webhooks calls wait for from a pool of threads, as Twilio does:
while one call waits for a slow app, the others go on; a late answer for a call that moved on
is ignored; a timeout still means error 11205 and the fallback URL."""

import socketserver
import threading
import time
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from twilio.rest import Client

from emulator.server import LocalTwilio
from telephony.client import RebasedHttpClient
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

from .hooks import _Quiet
from .test_server_devices import call

NUMBER = "+815012345678"
CALLER = "+819012345678"


class _Threading(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class SlowApp:
    """A threaded app on a free loopback port: TwiML per path, answered after a delay per
    path; records every request as (path, fields, started, finished) in wall-clock seconds."""

    def __init__(self):
        self.docs: dict[str, str] = {}
        self.delays: dict[str, float] = {}
        self.requests: list[tuple[str, dict, float, float]] = []
        self._lock = threading.Lock()
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Threading, handler_class=_Quiet
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _app(self, environ, start_response):
        started = time.monotonic()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        fields = {key: value[0] for key, value in parse_qs(body).items()}
        path = environ["PATH_INFO"]
        time.sleep(self.delays.get(path, 0.0))
        try:
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [self.docs.get(path, "<Response/>").encode()]
        finally:
            with self._lock:
                self.requests.append((path, fields, started, time.monotonic()))

    def to(self, path: str) -> list[tuple[dict, float, float]]:
        with self._lock:
            return [(fields, s, f) for seen, fields, s, f in self.requests if seen == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def app():
    running = SlowApp()
    yield running
    running.close()


@pytest.fixture
def twilio(app):
    local = LocalTwilio(
        app_url=app.url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls_per_second=None
    ).serve("127.0.0.1", 0)
    local.runner.call(
        local.emulator.add_number,
        NUMBER,
        voice_url="/voice",
        fallback_url="/fallback",
        status_callback="/status",
    )
    yield local
    local.stop()


def place(twilio) -> str:
    status, body = call(twilio, "POST", "/emulator/calls", {"to": NUMBER, "from": CALLER})
    assert status == 201
    return body["sid"]


def until(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def leg(twilio, sid):
    return twilio.emulator.call_by_sid(sid)


def test_two_calls_wait_for_a_slow_app_at_the_same_time(twilio, app):
    app.delays["/voice"] = 1.0
    app.docs["/voice"] = "<Response><Say>Hello.</Say><Hangup/></Response>"

    first, second = place(twilio), place(twilio)
    until(lambda: len(app.to("/voice")) == 2)

    (_, start_1, end_1), (_, start_2, end_2) = app.to("/voice")
    assert max(start_1, start_2) < min(end_1, end_2)  # the two requests overlapped in time
    until(
        lambda: all(twilio.runner.call(lambda s=s: leg(twilio, s).ended) for s in (first, second))
    )
    for sid in (first, second):
        assert twilio.runner.call(lambda s=sid: leg(twilio, s).heard()) == ["Hello."]


def test_a_caller_who_hangs_up_while_the_app_thinks_never_hears_its_late_answer(twilio, app):
    app.delays["/voice"] = 1.0
    app.docs["/voice"] = "<Response><Say>Too late.</Say></Response>"

    sid = place(twilio)
    until(lambda: twilio.runner.call(lambda: len(leg(twilio, sid).requests)) == 1)
    status, _ = call(twilio, "POST", f"/emulator/calls/{sid}/hangup")
    assert status == 200
    until(lambda: app.to("/voice"))  # the app answered, after the caller had gone

    def voice_log():
        return [entry for entry in twilio.emulator.request_log if entry[2].endswith("/voice")]

    until(lambda: twilio.runner.call(voice_log))

    def state():
        call_leg = leg(twilio, sid)
        return call_leg.status, call_leg.heard(), call_leg.end_reason, voice_log()

    status, heard, reason, voice = twilio.runner.call(state)
    assert (status, heard, reason) == ("canceled", [], "caller")
    assert voice == [(sid, "POST", app.url + "/voice", 200)]  # logged, and ignored
    until(lambda: [f["CallStatus"] for f, _, _ in app.to("/status")] == ["canceled"])


def test_a_timeout_is_error_11205_and_the_fallback_url_for_every_waiting_call(twilio, app):
    twilio.webhook_pool.transport.timeout = 0.5  # Twilio's 15 s, shortened for the test
    app.delays["/voice"] = 1.5
    app.docs["/fallback"] = "<Response><Say>Fallback.</Say><Hangup/></Response>"

    sids = [place(twilio) for _ in range(3)]
    until(lambda: len(app.to("/fallback")) == 3)
    until(lambda: all(twilio.runner.call(lambda s=s: leg(twilio, s).ended) for s in sids))

    for sid in sids:
        errors, heard = twilio.runner.call(
            lambda s=sid: (leg(twilio, s).errors, leg(twilio, s).heard())
        )
        assert [error["code"] for error in errors] == [11205]
        assert heard == ["Fallback."]
    fallbacks = [fields for fields, _, _ in app.to("/fallback")]
    assert {f["ErrorCode"] for f in fallbacks} == {"11205"}
    assert {f["CallSid"] for f in fallbacks} == set(sids)
    # All three timed out together (one after the other, the last would start after 1.5 s).
    assert max(s for _, s, _ in app.to("/fallback")) - min(s for _, s, _ in app.to("/voice")) < 1.2


def test_the_local_twilio_keeps_time_while_many_slow_webhooks_are_in_flight(twilio, app):
    app.delays["/voice"] = 1.0
    app.docs["/voice"] = '<Response><Pause length="1"/><Hangup/></Response>'

    started = time.monotonic()
    sids = [place(twilio) for _ in range(12)]
    until(lambda: all(twilio.runner.call(lambda s=s: leg(twilio, s).ended) for s in sids))
    took = time.monotonic() - started

    assert took < 6.0  # one at a time, it would take over 12 s of webhooks alone
    until(lambda: call(twilio, "GET", "/emulator/load-report")[1]["pending_requests"] == 0)
    status, report = call(twilio, "GET", "/emulator/load-report")
    assert status == 200
    assert report["lateness"]["max"] < 1.0  # in line, the last call would start 11 s late
    # Each call paused its whole second after the app's answer, on the wall clock.
    for sid in sids:
        durations = twilio.runner.call(lambda s=sid: leg(twilio, s).duration)
        assert durations == 1


def test_a_call_redirected_while_the_app_thinks_fetches_its_new_twiml_at_once(twilio, app):
    app.delays["/voice"] = 2.0
    app.docs["/voice"] = "<Response><Say>Too late.</Say></Response>"
    app.docs["/moved"] = "<Response><Say>Moved.</Say><Hangup/></Response>"
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))

    sid = place(twilio)
    until(lambda: twilio.runner.call(lambda: len(leg(twilio, sid).requests)) == 1)
    rest.calls(sid).update(url=app.url + "/moved", method="POST")
    until(lambda: twilio.runner.call(lambda: leg(twilio, sid).ended))
    until(lambda: app.to("/voice"))

    (_, _, voice_done), (_, moved_started, _) = app.to("/voice")[0], app.to("/moved")[0]
    assert moved_started < voice_done  # not held behind the request the call moved away from
    heard = twilio.runner.call(lambda: leg(twilio, sid).heard())
    assert heard == ["Moved."]


def test_status_callbacks_of_many_calls_wait_for_a_slow_app_at_the_same_time(twilio, app):
    # Sent from the pool like the other webhooks, not from a few threads of their own: behind
    # a busy app those fell a minute behind (docs/benchmarks.md, *Routing at load*).
    # Each answer takes 3 s: callbacks sent by four threads would come in two waves at least
    # 3 s apart; from the pool they all start while the first still waits (the spread is the
    # time it takes to place the eight calls, which a busy machine stretches).
    app.delays["/status"] = 3.0
    app.docs["/voice"] = "<Response><Hangup/></Response>"

    sids = [place(twilio) for _ in range(8)]
    until(lambda: len(app.to("/status")) == 8)

    starts = sorted(started for _fields, started, _finished in app.to("/status"))
    assert starts[-1] - starts[0] < 2.0  # none waited for another's answer
    assert {fields["CallSid"] for fields, _s, _f in app.to("/status")} == set(sids)
