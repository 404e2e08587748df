"""Twilio's REST API (2010-04-01) served from the emulator's state.

Inject into the app with ``twilio.rest.Client(sid, token, http_client=emu.rest_http_client())``
or ``telephony.client.set_http_client(emu.rest_http_client())``: the app's REST code runs
unmodified. Served: Queues (create, fetch, update, delete, list), Queue Members (fetch, list,
update = dequeue into new TwiML), Calls (create, fetch, update, list) and IncomingPhoneNumbers
(list, fetch, update). Set ``fail_with`` to make every request fail as Twilio would.
"""

import json
import logging
import re
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

from .model import API_VERSION, DEFAULT_QUEUE_SIZE, MAX_QUEUE_SIZE, Next, Redirected
from .twiml import method_attr

logger = logging.getLogger("emulator.rest")

_ROUTES = [
    ("queues", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Queues\.json$")),
    ("queue", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Queues/(?P<qu>QU\w+)\.json$")),
    (
        "members",
        re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Queues/(?P<qu>QU\w+)/Members\.json$"),
    ),
    (
        "member",
        re.compile(
            r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Queues/(?P<qu>QU\w+)/Members/(?P<ca>\w+)\.json$"
        ),
    ),
    ("calls", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Calls\.json$")),
    ("call", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Calls/(?P<ca>CA\w+)\.json$")),
    ("numbers", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/IncomingPhoneNumbers\.json$")),
    (
        "number",
        re.compile(
            r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/IncomingPhoneNumbers/(?P<pn>PN\w+)\.json$"
        ),
    ),
]


class RestError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _first(data: dict, name: str, default=None):
    value = data.get(name, default)
    if isinstance(value, list | tuple):
        return value[0] if value else default
    return value


def _list(data: dict, name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value).replace(",", " ").split()


class EmulatorHttpClient(HttpClient):
    """A twilio.http.HttpClient answering from an Emulator instead of api.twilio.com."""

    def __init__(self, emulator):
        super().__init__(logger=logger, is_async=False, timeout=None)
        self.emulator = emulator
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, data) received
        # Failure injection: (HTTP status, Twilio error code, message) answered to every request.
        self.fail_with: tuple[int, int, str] | None = None

    def request(self, method, uri, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):  # fmt: skip
        method = method.upper()
        parts = urlsplit(uri)
        path = parts.path
        data = dict(data or {})
        # A next_page_uri carries its paging in the query string.
        params = {**parse_qs(parts.query, keep_blank_values=True), **dict(params or {})}
        self.requests.append((method, path, data))
        try:
            if self.fail_with is not None:
                raise RestError(*self.fail_with)
            if auth is not None and auth[0] != self.emulator.account_sid:
                raise RestError(401, 20003, "Authenticate")
            for name, pattern in _ROUTES:
                match = pattern.match(path)
                if match:
                    if match.group("ac") != self.emulator.account_sid:
                        raise RestError(404, 20404, f"The requested resource {path} was not found")
                    handler = getattr(self, f"_{name}_{method.lower()}", None)
                    if handler is None:
                        raise RestError(405, 20004, f"Method {method} not allowed on {path}")
                    status, body = handler(match, params, data)
                    break
            else:
                raise RestError(404, 20404, f"The requested resource {path} was not found")
        except RestError as error:
            status = error.status
            body = {
                "code": error.code,
                "message": error.message,
                "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
                "status": error.status,
            }
        text = "" if body is None else json.dumps(body)
        return Response(status, text, headers={"Content-Type": "application/json"})

    # --- helpers -------------------------------------------------------------------------
    @property
    def _base(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.emulator.account_sid}"

    def _date(self, seconds: float) -> str:
        return format_datetime(self.emulator.datetime_at(seconds), usegmt=True)

    def _page(self, key: str, items: list, uri: str, params: dict) -> dict:
        size = int(_first(params, "PageSize", 50) or 50)
        page = int(_first(params, "Page", 0) or 0)
        chunk = items[page * size : (page + 1) * size]
        more = (page + 1) * size < len(items)
        return {
            key: chunk,
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": f"{uri}?PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": f"{uri}?PageSize={size}&Page={page - 1}" if page else None,
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0),
            "uri": f"{uri}?PageSize={size}&Page={page}",
        }

    # --- queues --------------------------------------------------------------------------
    def _queue_json(self, queue) -> dict:
        now = self.emulator.now
        return {
            "account_sid": self.emulator.account_sid,
            "average_wait_time": queue.average_wait(now),
            "current_size": len(queue.members),
            "date_created": self._date(queue.created_at),
            "date_updated": self._date(now),
            "friendly_name": queue.name,
            "max_size": queue.max_size,
            "sid": queue.sid,
            "uri": f"{self._base}/Queues/{queue.sid}.json",
            "subresource_uris": {"members": f"{self._base}/Queues/{queue.sid}/Members.json"},
        }

    def _queue(self, match):
        queue = self.emulator.queue_by_sid(match.group("qu"))
        if queue is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return queue

    @staticmethod
    def _max_size(data) -> int | None:
        raw = _first(data, "MaxSize")
        if raw in (None, ""):
            return None
        try:
            size = int(raw)
        except ValueError:
            raise RestError(400, 21211, f"MaxSize must be a number, got {raw!r}") from None
        if not 1 <= size <= MAX_QUEUE_SIZE:
            raise RestError(400, 20001, f"MaxSize must be between 1 and {MAX_QUEUE_SIZE}")
        return size

    def _queues_post(self, match, params, data):
        name = (_first(data, "FriendlyName") or "").strip()
        if not name:
            raise RestError(400, 21201, "Missing required parameter FriendlyName")
        if len(name) > 64:
            raise RestError(400, 20001, "FriendlyName must be 64 characters or less")
        if name in self.emulator.queues:
            raise RestError(400, 22003, f"A queue named {name!r} already exists")
        queue = self.emulator.add_queue(name, max_size=self._max_size(data) or DEFAULT_QUEUE_SIZE)
        return 201, self._queue_json(queue)

    def _queues_get(self, match, params, data):
        queues = [self._queue_json(queue) for queue in self.emulator.queues.values()]
        return 200, self._page("queues", queues, f"{self._base}/Queues.json", params)

    def _queue_get(self, match, params, data):
        return 200, self._queue_json(self._queue(match))

    def _queue_post(self, match, params, data):
        queue = self._queue(match)
        name = _first(data, "FriendlyName")
        if name:
            if name != queue.name and name in self.emulator.queues:
                raise RestError(400, 22003, f"A queue named {name!r} already exists")
            del self.emulator.queues[queue.name]
            queue.name = name
            self.emulator.queues[name] = queue
        size = self._max_size(data)
        if size is not None:
            queue.max_size = size
        return 200, self._queue_json(queue)

    def _queue_delete(self, match, params, data):
        queue = self._queue(match)
        if queue.members:
            raise RestError(400, 20001, "Cannot delete a queue that has members")
        del self.emulator.queues[queue.name]
        return 204, None

    # --- members -------------------------------------------------------------------------
    def _member_json(self, queue, member) -> dict:
        return {
            "call_sid": member.leg.sid,
            "date_enqueued": format_datetime(member.date_enqueued, usegmt=True),
            "position": queue.position_of(member),
            "queue_sid": queue.sid,
            "uri": f"{self._base}/Queues/{queue.sid}/Members/{member.leg.sid}.json",
            "wait_time": int(self.emulator.now - member.entered_at + 1e-9),
        }

    def _member(self, match):
        queue = self._queue(match)
        key = match.group("ca")
        if key == "Front":
            member = queue.members[0] if queue.members else None
        else:
            member = next((m for m in queue.members if m.leg.sid == key), None)
        if member is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return queue, member

    def _members_get(self, match, params, data):
        queue = self._queue(match)
        members = [self._member_json(queue, member) for member in queue.members]
        uri = f"{self._base}/Queues/{queue.sid}/Members.json"
        return 200, self._page("queue_members", members, uri, params)

    def _member_get(self, match, params, data):
        queue, member = self._member(match)
        return 200, self._member_json(queue, member)

    def _member_post(self, match, params, data):
        queue, member = self._member(match)
        url = _first(data, "Url")
        if not url:
            raise RestError(400, 21201, "Missing required parameter Url")
        body = self._member_json(queue, member)
        # Out of the queue now, so no agent can take it; the leg runs the new TwiML at once.
        queue.members.remove(member)
        next_ = Next(self.emulator.absolute(url), method_attr(_first(data, "Method")))
        member.leg.process.interrupt(Redirected(next_, member=True))
        return 200, body

    # --- calls ---------------------------------------------------------------------------
    def _call_json(self, leg) -> dict:
        return {
            "account_sid": self.emulator.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": self._date(leg.created_at),
            "date_updated": self._date(self.emulator.now),
            "direction": leg.direction,
            "duration": str(leg.duration) if leg.ended else None,
            "end_time": self._date(leg.ended_at) if leg.ended_at is not None else None,
            "forwarded_from": None,
            "from": leg.from_,
            "from_formatted": leg.from_,
            "group_sid": None,
            "parent_call_sid": leg.parent.sid if leg.parent else None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": leg.sid,
            "start_time": self._date(leg.started_at) if leg.started_at is not None else None,
            "status": leg.status,
            "subresource_uris": {},
            "to": leg.to,
            "to_formatted": leg.to,
            "trunk_sid": None,
            "uri": f"{self._base}/Calls/{leg.sid}.json",
        }

    def _leg(self, match):
        leg = self.emulator.call_by_sid(match.group("ca"))
        if leg is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return leg

    def _calls_post(self, match, params, data):
        to, from_ = _first(data, "To"), _first(data, "From")
        url, twiml = _first(data, "Url"), _first(data, "Twiml")
        if not to:
            raise RestError(400, 21201, "Missing required parameter To")
        if not from_:
            raise RestError(400, 21213, "No 'From' number is specified")
        if not url and not twiml:
            raise RestError(400, 21205, "Url or Twiml is required")
        timeout = int(_first(data, "Timeout", 60) or 60)
        leg = self.emulator.create_call(
            to=to,
            from_=from_,
            url=url,
            twiml=twiml,
            method=_first(data, "Method", "POST"),
            status_callback=_first(data, "StatusCallback"),
            status_callback_method=_first(data, "StatusCallbackMethod", "POST"),
            status_callback_event=_list(data, "StatusCallbackEvent") or None,
            fallback_url=_first(data, "FallbackUrl"),
            timeout=max(1, min(timeout, 600)),
        )
        return 201, self._call_json(leg)

    def _calls_get(self, match, params, data):
        legs = list(reversed(self.emulator.calls))
        status = _first(params, "Status")
        if status:
            legs = [leg for leg in legs if leg.status == status]
        for field, attr in (("To", "to"), ("From", "from_")):
            wanted = _first(params, field)
            if wanted:
                legs = [leg for leg in legs if getattr(leg, attr) == wanted]
        calls = [self._call_json(leg) for leg in legs]
        return 200, self._page("calls", calls, f"{self._base}/Calls.json", params)

    def _call_get(self, match, params, data):
        return 200, self._call_json(self._leg(match))

    def _call_post(self, match, params, data):
        leg = self._leg(match)
        status = _first(data, "Status")
        url, twiml = _first(data, "Url"), _first(data, "Twiml")
        if leg.ended:
            raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if status in ("completed", "canceled"):
            if status == "canceled" and leg.answered_at is not None:
                return 200, self._call_json(leg)  # Twilio ignores canceling an answered call
            self.emulator.hangup(leg, "api")
            return 200, self._call_json(leg)
        if status:
            raise RestError(400, 20001, f"Status must be completed or canceled, not {status!r}")
        if url or twiml:
            if leg.process is None:
                raise RestError(400, 21220, "This call leg cannot be redirected")
            if twiml:
                next_ = Next(self.emulator.base_url + "/", "POST", twiml=twiml)
            else:
                next_ = Next(self.emulator.absolute(url), method_attr(_first(data, "Method")))
            leg.process.interrupt(Redirected(next_))
        return 200, self._call_json(leg)

    # --- numbers -------------------------------------------------------------------------
    def _number_json(self, config) -> dict:
        return {
            "account_sid": self.emulator.account_sid,
            "api_version": API_VERSION,
            "friendly_name": config.number,
            "phone_number": config.number,
            "sid": config.sid,
            "status_callback": config.status_callback or "",
            "status_callback_method": config.status_method,
            "voice_url": config.voice_url,
            "voice_method": config.voice_method,
            "voice_fallback_url": config.fallback_url or "",
            "voice_fallback_method": config.fallback_method,
            "uri": f"{self._base}/IncomingPhoneNumbers/{config.sid}.json",
        }

    def _number(self, match):
        sid = match.group("pn")
        config = next((c for c in self.emulator.numbers.values() if c.sid == sid), None)
        if config is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return config

    def _numbers_get(self, match, params, data):
        configs = list(self.emulator.numbers.values())
        wanted = _first(params, "PhoneNumber")
        if wanted:
            configs = [config for config in configs if config.number == wanted]
        numbers = [self._number_json(config) for config in configs]
        uri = f"{self._base}/IncomingPhoneNumbers.json"
        return 200, self._page("incoming_phone_numbers", numbers, uri, params)

    def _number_get(self, match, params, data):
        return 200, self._number_json(self._number(match))

    def _number_post(self, match, params, data):
        config = self._number(match)
        emulator = self.emulator
        if "VoiceUrl" in data:
            config.voice_url = emulator.absolute(_first(data, "VoiceUrl"))
        if "VoiceMethod" in data:
            config.voice_method = method_attr(_first(data, "VoiceMethod"))
        if "VoiceFallbackUrl" in data:
            value = _first(data, "VoiceFallbackUrl")
            config.fallback_url = emulator.absolute(value) if value else None
        if "StatusCallback" in data:
            value = _first(data, "StatusCallback")
            config.status_callback = emulator.absolute(value) if value else None
        if "StatusCallbackMethod" in data:
            config.status_method = method_attr(_first(data, "StatusCallbackMethod"))
        return 200, self._number_json(config)
