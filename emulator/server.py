"""The local Twilio: the emulator as an HTTP server (``manage.py twilio_emulator``).

Serves Twilio's REST API (``/2010-04-01/…``, HTTP basic auth), the scripting API the phone page
and the emulated softphone use (``/emulator/…``, loopback only), the phone page (``/``) and the
emulated softphone's script (``/emulator/device.js``). Calls run on the real clock and every
webhook goes to the app over HTTP, signed with the account's auth token.
"""

import base64
import binascii
import contextlib
import ipaddress
import json
import logging
import re
import socketserver
import threading
from datetime import UTC, datetime
from importlib import resources
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .actors import Caller
from .conference import party_address
from .devices import TALK_FROM, Devices, press_keys
from .engine import Emulator
from .realtime import PumpingTransport, RealTimeRunner, StatusCallbackSender, WebhookPool
from .recordings import recording_wav
from .tokens import TokenError, verify_access_token
from .transport import HttpTransport

logger = logging.getLogger("emulator.server")

HEARD_KINDS = {"say", "play", "pause", "play-digits"}
DEVICE_ACTIONS = {"accept", "reject", "hangup", "mute", "digits"}
MAX_POLL_SECONDS = 30.0
RECORDING_MEDIA = re.compile(
    r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Recordings/(?P<re>RE\w+)(?P<ext>\.wav|\.mp3)?$"
)
STATIC = {
    "/": ("phone.html", "text/html; charset=utf-8"),
    "/phone.js": ("phone.js", "text/javascript; charset=utf-8"),
    "/emulator/device.js": ("device.js", "text/javascript; charset=utf-8"),
}


class HttpError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def twilio_error(status: int, code: int, message: str) -> HttpError:
    return HttpError(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class LocalTwilio:
    """One Twilio account on this machine, serving the app at ``app_url``."""

    def __init__(
        self,
        *,
        app_url: str,
        account_sid: str,
        auth_token: str,
        api_key_sid: str = "",
        api_key_secret: str = "",
        twiml_app_sid: str = "",
        numbers: tuple[str, ...] = (),
        calls_per_second: float | None = 1.0,
        http_threads: int = 32,
    ):
        self.app_url = app_url.rstrip("/")
        self.api_key_sid = api_key_sid
        self.api_key_secret = api_key_secret
        self.emulator = Emulator(
            HttpTransport(self.app_url),
            account_sid=account_sid,
            auth_token=auth_token,
            base_url=self.app_url,
            start=datetime.now(UTC),
        )
        self.emulator.calls_per_second = calls_per_second
        self.runner = RealTimeRunner(self.emulator)
        self.status_sender = StatusCallbackSender(
            self.emulator, self.runner, self.emulator.transport
        )
        self.emulator.status_callback_sender = self.status_sender
        # 0 threads: webhooks in line on the engine's thread, as before the pool (to compare).
        self.webhook_pool = (
            WebhookPool(self.runner, self.emulator.transport, http_threads)
            if http_threads > 0
            else None
        )
        self.emulator.webhook_pool = self.webhook_pool
        self.emulator.transport = PumpingTransport(self.emulator.transport, self.runner)
        self.emulator.configure_client_app(
            voice_url="/twilio/agent/outgoing", status_callback="/twilio/voice/status"
        )
        if twiml_app_sid:
            self.emulator.client_app["sid"] = twiml_app_sid
        for number in numbers:
            self._add_number(number)
        self.devices = Devices(self.emulator)
        self.rest = self.emulator.rest_http_client()
        self._server = None
        self._thread: threading.Thread | None = None

    # --- running --------------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 8020) -> "LocalTwilio":
        """Start serving in background threads (``port=0``: any free port, see ``url``)."""
        self.runner.start()
        self._server = make_server(
            host, port, self.wsgi, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="twilio-emulator-http", daemon=True
        )
        self._thread.start()
        self.runner.call(setattr, self.emulator, "api_base", self.url)  # recordings' URLs
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.runner.stop()
        self.status_sender.stop()
        if self.webhook_pool is not None:
            self.webhook_pool.stop()

    # --- WSGI -----------------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        scripting = path.startswith("/emulator/") or path in STATIC
        headers = [("Content-Type", "application/json")]
        if scripting:
            headers.append(("Access-Control-Allow-Origin", "*"))
        try:
            if scripting and not _is_loopback(environ.get("REMOTE_ADDR", "")):
                raise HttpError(403, {"message": "the local Twilio answers this machine only"})
            if method == "OPTIONS" and scripting:
                headers += [
                    ("Access-Control-Allow-Methods", "GET, POST, DELETE"),
                    ("Access-Control-Allow-Headers", "Content-Type"),
                ]
                status, body = 204, None
            elif path in STATIC:
                name, content_type = STATIC[path]
                text = resources.files("emulator").joinpath("web", name).read_text("utf-8")
                start_response("200 OK", [("Content-Type", content_type), *headers[1:]])
                return [text.encode("utf-8")]
            elif RECORDING_MEDIA.match(path):
                self._authenticate(environ)
                status, content_type, payload = self._recording_media(path)
                start_response(_status_line(status), [("Content-Type", content_type)])
                return [payload]
            elif path.startswith("/2010-04-01/"):
                status, body = self._rest(environ, method, path)
                if isinstance(body, str):
                    payload = body.encode("utf-8")
                    start_response(_status_line(status), headers)
                    return [payload]
            elif scripting:
                status, body = self._script(environ, method, path)
            else:
                raise twilio_error(404, 20404, f"The requested resource {path} was not found")
        except HttpError as error:
            status, body = error.status, error.body
        except Exception:
            logger.exception("the local Twilio failed on %s %s", method, path)
            status, body = 500, {"message": "the local Twilio failed; see its log"}
        payload = b"" if body is None else json.dumps(body).encode("utf-8")
        start_response(_status_line(status), headers)
        return [payload]

    # --- REST -----------------------------------------------------------------------------------
    def _authenticate(self, environ) -> None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        try:
            username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = ""
        emulator = self.emulator
        valid = scheme.lower() == "basic" and (
            (username == emulator.account_sid and password == emulator.auth_token)
            or (
                bool(self.api_key_sid)
                and username == self.api_key_sid
                and password == self.api_key_secret
            )
        )
        if not valid:
            raise twilio_error(401, 20003, "Authenticate")

    def _recording_media(self, path: str):
        """The recording's audio: a WAV the emulator makes up (silence after a short tone, as long
        as the recording). No MP3 encoder here: ``.mp3`` is answered 404 like a missing file."""
        match = RECORDING_MEDIA.match(path)

        def find():
            if match.group("ac") != self.emulator.account_sid:
                return None
            recording = self.emulator.recordings.get(match.group("re"))
            if recording is None or recording["status"] != "completed":
                return None
            return dict(recording)

        recording = self.runner.call(find)
        if recording is None or match.group("ext") == ".mp3":
            error = twilio_error(404, 20404, f"The requested resource {path} was not found")
            return 404, "application/json", json.dumps(error.body).encode("utf-8")
        return 200, "audio/x-wav", recording_wav(recording)

    def _rest(self, environ, method: str, path: str):
        self._authenticate(environ)
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        data = parse_qs(_read_body(environ).decode("utf-8"), keep_blank_values=True)
        response = self.runner.call(self.rest.request, method, path, params=params, data=data)
        return response.status_code, response.text

    # --- scripting API --------------------------------------------------------------------------
    def _script(self, environ, method: str, path: str):
        body = {}
        if method in ("POST", "PUT"):
            raw = _read_body(environ)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise HttpError(400, {"message": "the body must be JSON"}) from None
            if not isinstance(body, dict):
                raise HttpError(400, {"message": "the body must be a JSON object"})
        query = parse_qs(environ.get("QUERY_STRING", ""))
        for pattern, allowed, handler in self._routes():
            match = pattern.fullmatch(path)
            if match:
                if method not in allowed:
                    raise HttpError(405, {"message": f"{method} not allowed"})
                return handler(method, body, query, **match.groupdict())
        raise HttpError(404, {"message": f"no such path: {path}"})

    def _routes(self):
        return (
            (re.compile(r"/emulator/numbers"), ("GET",), self._numbers),
            (re.compile(r"/emulator/load-report"), ("GET",), self._load_report),
            (re.compile(r"/emulator/calls"), ("POST",), self._place_call),
            (re.compile(r"/emulator/conferences/(?P<key>[^/]+)"), ("GET",), self._conference),
            (re.compile(r"/emulator/calls/(?P<sid>CA\w+)"), ("GET",), self._call_state),
            (
                re.compile(r"/emulator/calls/(?P<sid>CA\w+)/(?P<action>digits|hangup)"),
                ("POST",),
                self._call_action,
            ),
            (re.compile(r"/emulator/devices"), ("POST",), self._register),
            (re.compile(r"/emulator/devices/(?P<id>DE\w+)"), ("DELETE",), self._unregister),
            (re.compile(r"/emulator/devices/(?P<id>DE\w+)/events"), ("GET",), self._events),
            (re.compile(r"/emulator/devices/(?P<id>DE\w+)/connect"), ("POST",), self._connect),
            (
                re.compile(r"/emulator/devices/(?P<id>DE\w+)/calls/(?P<sid>CA\w+)/(?P<action>\w+)"),
                ("POST",),
                self._device_action,
            ),
        )

    def _add_number(self, number: str):
        return self.emulator.add_number(
            number,
            voice_url="/twilio/voice/incoming",
            status_callback="/twilio/voice/status",
            fallback_url="/twilio/voice/fallback",
        )

    def _load_report(self, method, body, query):
        """What a load test compares the app's books with: the ground truth of every queue
        visit, every call leg, every request sent to the app with its answer, and how late the
        local Twilio ran behind the wall clock."""

        def report():
            emulator = self.emulator
            lateness = sorted(self.runner.lateness)

            def moment(seconds):
                return None if seconds is None else emulator.datetime_at(seconds).isoformat()

            return {
                "start": emulator.start.isoformat(),
                "virtual_seconds": emulator.now,
                "wall_seconds": self.runner.elapsed(),
                # Requests to the app not answered yet: a load test waits for 0 before it
                # compares the app's books with this report.
                "pending_requests": (self.webhook_pool.pending() if self.webhook_pool else 0)
                + self.status_sender.pending(),
                "lateness": {
                    "samples": len(lateness),
                    "p50": lateness[len(lateness) // 2] if lateness else 0.0,
                    "p99": lateness[int(len(lateness) * 0.99)] if lateness else 0.0,
                    "max": lateness[-1] if lateness else 0.0,
                },
                "visits": [
                    {**visit, "entered_at": visit["entered_at"].isoformat()}
                    for visit in emulator.ground_truth()
                ],
                "calls": [
                    {
                        "sid": leg.sid,
                        "direction": leg.direction,
                        "from": leg.from_,
                        "to": leg.to,
                        "parent": leg.parent.sid if leg.parent is not None else None,
                        "status": leg.status,
                        "created_at": moment(leg.created_at),
                        "answered_at": moment(leg.answered_at),
                        "ended_at": moment(leg.ended_at),
                    }
                    for leg in emulator.calls
                ],
                "conferences": [
                    {
                        "sid": conference.sid,
                        "friendly_name": conference.friendly_name,
                        "started": any(e == "conference-start" for e, _ in conference.events),
                        "joined": [
                            fields["CallSid"]
                            for event, fields in conference.events
                            if event == "participant-join"
                        ],
                    }
                    for conference in emulator.conferences
                ],
                "requests": [list(entry) for entry in emulator.request_log],
                "errors": [dict(error) for error in emulator.errors],
            }

        return 200, self.runner.call(report)

    def _numbers(self, method, body, query):
        numbers = self.runner.call(lambda: list(self.emulator.numbers))
        return 200, {"numbers": numbers}

    def _place_call(self, method, body, query):
        to, from_ = str(body.get("to", "")).strip(), str(body.get("from", "")).strip()
        if not re.fullmatch(r"\+[1-9]\d{1,14}", to) or not re.fullmatch(r"\+?\d{2,15}", from_):
            raise HttpError(400, {"message": "to must be +E.164 and from a phone number"})
        scripted = _scripted_caller(body)

        def place():
            if to not in self.emulator.numbers:
                self._add_number(to)
            caller = Caller(**scripted) if scripted else Caller(live=True)
            return self.emulator.place_call(to=to, from_=from_, caller=caller, at=self.emulator.now)

        leg = self.runner.call(place)
        return 201, {"sid": leg.sid}

    def _leg(self, sid: str):
        leg = self.emulator.call_by_sid(sid)
        if leg is None:
            raise HttpError(404, {"message": f"no call {sid}"})
        return leg

    def _call_state(self, method, body, query, sid):
        return 200, self.runner.call(lambda: call_state(self._leg(sid)))

    def _conference(self, method, body, query, key):
        def state():
            conference = self.emulator.conference_for(key)  # PATH_INFO is already unquoted
            if conference is None:
                raise HttpError(404, {"message": f"no conference {key}"})
            return conference.state()

        return 200, self.runner.call(state)

    def _call_action(self, method, body, query, sid, action):
        def act():
            leg = self._leg(sid)
            if action == "hangup":
                self.emulator.hangup(leg, "caller")
            else:
                digits = str(body.get("digits", ""))
                if not re.fullmatch(r"[0-9*#wW]{1,32}", digits):
                    raise HttpError(400, {"message": "digits: 0-9, * and # only"})
                press_keys(leg, digits)
            return call_state(leg)

        return 200, self.runner.call(act)

    def _device(self, device_id: str):
        device = self.devices.devices.get(device_id)
        if device is None:
            raise HttpError(404, {"message": f"no device {device_id}"})
        return device

    def _register(self, method, body, query):
        try:
            claims = verify_access_token(
                body.get("token", ""),
                account_sid=self.emulator.account_sid,
                api_key_sid=self.api_key_sid,
                api_key_secret=self.api_key_secret,
            )
        except TokenError as error:
            raise HttpError(401, {"code": error.code, "message": error.message}) from None
        identity = claims["grants"]["identity"]
        auto = body.get("auto_answer")
        if auto is None:
            scripted = {}
        else:
            try:
                answer_after = float(auto["after"])
                talk = auto.get("talk")
                talk_seconds = None if talk is None else float(talk)
                talk_from = auto.get("talk_from", "accept")
                if talk_from not in TALK_FROM:
                    raise ValueError(talk_from)
            except (TypeError, KeyError, ValueError):
                raise HttpError(
                    400,
                    {
                        "message": 'auto_answer: {"after": seconds, "talk": seconds or null,'
                        ' "talk_from": "accept" or "connected"}'
                    },
                ) from None
            if answer_after < 0 or (talk_seconds is not None and talk_seconds < 0):
                raise HttpError(400, {"message": "auto_answer: seconds must not be negative"})
            scripted = {
                "answer_after": answer_after,
                "talk_seconds": talk_seconds,
                "talk_from": talk_from,
            }
        device = self.runner.call(self.devices.register, identity, **scripted)
        return 201, {"id": device.id, "identity": identity}

    def _unregister(self, method, body, query, id):
        self.runner.call(lambda: self.devices.unregister(self._device(id)))
        return 204, None

    def _events(self, method, body, query, id):
        device = self.runner.call(self._device, id)
        try:
            wait = min(float((query.get("wait") or ["25"])[0]), MAX_POLL_SECONDS)
        except ValueError:
            wait = 25.0
        return 200, {"events": self.devices.wait_events(device, max(0.0, wait))}

    def _connect(self, method, body, query, id):
        params = body.get("params") or {}
        if not isinstance(params, dict) or not params.get("To"):
            raise HttpError(400, {"message": "params.To is required"})
        sid = self.runner.call(lambda: self.devices.connect(self._device(id), params))
        return 201, {"call": sid}

    def _device_action(self, method, body, query, id, sid, action):
        if action not in DEVICE_ACTIONS:
            raise HttpError(404, {"message": f"no action {action}"})

        def act():
            device = self._device(id)
            if action == "mute":
                return self.devices.mute(device, sid, bool(body.get("muted", True)))
            if action == "digits":
                return self.devices.digits(device, sid, str(body.get("digits", "")))
            return getattr(self.devices, action)(device, sid)

        if not self.runner.call(act):
            raise HttpError(409, {"message": f"call {sid} cannot be {action}ed by this device"})
        return 200, {"call": sid}


def _scripted_caller(body: dict) -> dict:
    """A caller who plays a script instead of waiting for keys from the page: `digits` (keys per
    prompt, "-" = silence), `patience` (seconds in a queue before hanging up), `talk_seconds`."""
    scripted = {}
    if "digits" in body:
        digits = str(body["digits"])
        if not re.fullmatch(r"[0-9*#\- ,]{0,64}", digits):
            raise HttpError(400, {"message": "digits: 0-9, *, #, - (silence), comma-separated"})
        scripted["digits"] = digits
    for name in ("patience", "talk_seconds"):
        if body.get(name) is not None:
            try:
                value = float(body[name])
            except (TypeError, ValueError):
                raise HttpError(400, {"message": f"{name} must be a number of seconds"}) from None
            if value < 0:
                raise HttpError(400, {"message": f"{name} must not be negative"})
            scripted[name] = value
    return scripted


def call_state(leg) -> dict:
    """What the phone page shows of a call (the scripting API's GET /emulator/calls/<sid>)."""
    heard = []
    for entry in leg.transcript:
        if entry.kind not in HEARD_KINDS:
            continue
        if entry.kind == "say":
            text = entry.text
        elif entry.kind == "play":
            text = entry.url
        elif entry.kind == "pause":
            text = f"{entry.attrs.get('seconds', 0):g}"
        else:
            text = entry.text
        heard.append(
            {
                "at": round(entry.at - leg.created_at, 2),
                "verb": entry.kind,
                "text": text,
                "language": entry.attrs.get("language", ""),
            }
        )
    bridge = leg.bridge
    connected_to = []
    on_hold = False
    conference = None
    if bridge is not None and bridge.connected_at is not None and not bridge.ended:
        other = bridge.b if bridge.a is leg else bridge.a
        address = other.from_ if other.direction == "inbound" else other.to
        connected_to.append(address if address.startswith("client:") else other.sid)
    participant = leg.participant
    if participant is not None:
        room = participant.conference
        conference = {"sid": room.sid, "friendly_name": room.friendly_name, "status": room.status}
        on_hold = participant.hold
        # Everyone this leg hears or is heard by (a coach is connected to the one it coaches).
        for other in room.participants.values():
            if other is participant:
                continue
            if other.call_sid in room.hears(participant) or participant.call_sid in room.hears(
                other
            ):
                connected_to.append(party_address(other.leg))
    return {
        "sid": leg.sid,
        "status": leg.status,
        "from": leg.from_,
        "to": leg.to,
        "heard": heard,
        "queue": leg.member.visit.queue if leg.member is not None else None,
        "connected_to": connected_to,
        "on_hold": on_hold,
        "gathering": leg.gathering,
        "conference": conference,
    }


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


@contextlib.contextmanager
def serving_rest(emulator):
    """Serve ``emulator``'s REST API on a free loopback port for the ``with`` block; yields its
    base URL. For an emulator driven in this process's main thread (``simulate_call``): the app
    calls the API from inside a webhook, while the emulator waits for that webhook's answer, so
    the two never touch the emulator's state at the same time."""
    rest = emulator.rest_http_client()

    def app(environ, start_response):
        params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        data = parse_qs(_read_body(environ).decode("utf-8"), keep_blank_values=True)
        header = environ.get("HTTP_AUTHORIZATION", "")
        try:
            username = base64.b64decode(header.partition(" ")[2]).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            username = ""
        response = rest.request(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), params, data,
            auth=(username, ""),
        )  # fmt: skip
        start_response(_status_line(response.status_code), [("Content-Type", "application/json")])
        return [response.text.encode("utf-8")]

    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="emulator-rest", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        logger.debug("%s - %s", self.address_string(), format % args)
