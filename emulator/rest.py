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
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

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
    ("conferences", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Conferences\.json$")),
    (
        "conference",
        re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Conferences/(?P<cf>[^/]+)\.json$"),
    ),
    (
        "participants",
        re.compile(
            r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Conferences/(?P<cf>[^/]+)/Participants\.json$"
        ),
    ),
    (
        "participant",
        re.compile(
            r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Conferences/(?P<cf>[^/]+)/Participants/"
            r"(?P<key>[^/]+)\.json$"
        ),
    ),
    (
        "call_recordings",
        re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Calls/(?P<ca>CA\w+)/Recordings\.json$"),
    ),
    (
        "call_recording",
        re.compile(
            r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Calls/(?P<ca>CA\w+)/Recordings/"
            r"(?P<re>RE\w+|Twilio\.CURRENT)\.json$"
        ),
    ),
    ("recordings", re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Recordings\.json$")),
    (
        "recording",
        re.compile(r"^/2010-04-01/Accounts/(?P<ac>AC\w+)/Recordings/(?P<re>RE\w+)\.json$"),
    ),
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


def _absolute_urls(data: dict, *names: str) -> None:
    """Twilio takes only fully qualified http(s) URLs (error 21205)."""
    for name in names:
        value = _first(data, name)
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise RestError(400, 21205, f"{name} is not a valid URL: {value}")
        if value and not urlsplit(value).netloc:
            raise RestError(400, 21205, f"{name} is not a valid URL: {value}")


def _bool(data: dict, name: str):
    """A boolean parameter: None when absent."""
    value = _first(data, name)
    if value is None or value == "":
        return None
    return str(value).strip().lower() == "true"


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
        path = unquote(parts.path)  # a conference's friendly name may stand for its sid
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
        _absolute_urls(data, "Url")
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
        _absolute_urls(data, "Url", "FallbackUrl", "StatusCallback")
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
        _absolute_urls(data, "Url", "FallbackUrl", "StatusCallback")
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

    # --- conferences ----------------------------------------------------------------------------
    def _conference_json(self, conference) -> dict:
        uri = f"{self._base}/Conferences/{conference.sid}"
        return {
            "account_sid": self.emulator.account_sid,
            "api_version": API_VERSION,
            "call_sid_ending_conference": conference.call_sid_ending,
            "date_created": self._date(conference.created_at),
            "date_updated": self._date(conference.updated_at),
            "friendly_name": conference.friendly_name,
            "reason_conference_ended": conference.reason_ended,
            "region": "us1",
            "sid": conference.sid,
            "status": conference.status,
            "subresource_uris": {
                "participants": f"{uri}/Participants.json",
                "recordings": f"{uri}/Recordings.json",
            },
            "uri": f"{uri}.json",
        }

    def _conference(self, match, *, create: bool = False):
        key = match.group("cf")
        emulator = self.emulator
        if key.startswith("CF"):
            conference = emulator.conference_by_sid(key)
        else:  # Twilio takes the friendly name in place of the sid
            conference = emulator.conference_named(key)
            if conference is None and create:
                conference = emulator._new_conference(key)
        if conference is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return conference

    def _conferences_get(self, match, params, data):
        conferences = list(reversed(self.emulator.conferences))
        name = _first(params, "FriendlyName")
        if name:
            conferences = [c for c in conferences if c.friendly_name == name]
        status = _first(params, "Status")
        if status:
            conferences = [c for c in conferences if c.status == status]
        items = [self._conference_json(c) for c in conferences]
        return 200, self._page("conferences", items, f"{self._base}/Conferences.json", params)

    def _conference_get(self, match, params, data):
        return 200, self._conference_json(self._conference(match))

    def _conference_post(self, match, params, data):
        conference = self._conference(match)
        status = _first(data, "Status")
        _absolute_urls(data, "AnnounceUrl")
        if status not in (None, "", "completed"):
            raise RestError(400, 20001, f"Status must be completed, not {status!r}")
        if _first(data, "AnnounceUrl") and conference.status != "completed":
            self.emulator._announce(conference, None, _first(data, "AnnounceUrl"))
        if status == "completed":
            self.emulator.end_conference(conference, reason="conference-ended-via-api")
        return 200, self._conference_json(conference)

    # --- participants ---------------------------------------------------------------------------
    def _participant_json(self, conference, participant=None, *, pending=None) -> dict:
        if participant is not None:
            call_sid, status = participant.call_sid, participant.status
            info = {
                "label": participant.label,
                "muted": participant.muted,
                "hold": participant.hold,
                "coaching": participant.coaching,
                "call_sid_to_coach": participant.call_sid_to_coach,
                "start_conference_on_enter": participant.start_conference_on_enter,
                "end_conference_on_exit": participant.end_conference_on_exit,
                "created_at": participant.joined_at,
                "updated_at": participant.updated_at,
            }
        else:
            leg = pending["leg"]
            call_sid = leg.sid
            status = {"queued": "queued", "initiated": "connecting", "ringing": "ringing"}.get(
                leg.status, "failed" if leg.ended else "connecting"
            )
            info = pending
        return {
            "account_sid": self.emulator.account_sid,
            "call_sid": call_sid,
            "call_sid_to_coach": info["call_sid_to_coach"],
            "coaching": info["coaching"],
            "conference_sid": conference.sid,
            "date_created": self._date(info["created_at"]),
            "date_updated": self._date(info["updated_at"]),
            "end_conference_on_exit": info["end_conference_on_exit"],
            "hold": info["hold"],
            "label": info["label"],
            "muted": info["muted"],
            "queue_time": "0",
            "start_conference_on_enter": info["start_conference_on_enter"],
            "status": status,
            "uri": f"{self._base}/Conferences/{conference.sid}/Participants/{call_sid}.json",
        }

    def _pending(self, conference) -> list[dict]:
        """Participants created through the API whose call has not joined (yet)."""
        return [
            info
            for info in conference.pending
            if not info["leg"].ended and info["leg"].participant is None
        ]

    def _participant(self, match):
        conference = self._conference(match)
        key = match.group("key")
        participant = conference.participant(key)
        if participant is not None:
            return conference, participant, None
        for info in self._pending(conference):
            if info["leg"].sid == key or (info["label"] and info["label"] == key):
                return conference, None, info
        raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")

    def _participants_get(self, match, params, data):
        conference = self._conference(match)
        items = [self._participant_json(conference, p) for p in conference.participants.values()]
        items += [self._participant_json(conference, pending=i) for i in self._pending(conference)]
        for name in ("Muted", "Hold", "Coaching"):
            wanted = _bool(params, name)
            if wanted is not None:
                items = [item for item in items if item[name.lower()] == wanted]
        uri = f"{self._base}/Conferences/{conference.sid}/Participants.json"
        return 200, self._page("participants", items, uri, params)

    def _participant_get(self, match, params, data):
        conference, participant, pending = self._participant(match)
        return 200, self._participant_json(conference, participant, pending=pending)

    def _participants_post(self, match, params, data):
        to, from_ = _first(data, "To"), _first(data, "From")
        if not to:
            raise RestError(400, 21201, "Missing required parameter To")
        if not from_:
            raise RestError(400, 21213, "No 'From' number is specified")
        _absolute_urls(
            data,
            "StatusCallback",
            "WaitUrl",
            "ConferenceStatusCallback",
            "ConferenceRecordingStatusCallback",
            "RecordingStatusCallback",
        )
        coaching = bool(_bool(data, "Coaching"))
        coach = _first(data, "CallSidToCoach")
        if coaching and not coach:
            raise RestError(400, 20001, "CallSidToCoach is required when Coaching is true")
        conference = self._conference(match, create=True)
        if conference.status == "completed":
            raise RestError(400, 20001, f"Conference {conference.sid} is completed")
        attrs = {
            "muted": _first(data, "Muted"),
            "beep": _first(data, "Beep"),
            "startConferenceOnEnter": _first(data, "StartConferenceOnEnter"),
            "endConferenceOnExit": _first(data, "EndConferenceOnExit"),
            "waitUrl": _first(data, "WaitUrl"),
            "waitMethod": _first(data, "WaitMethod"),
            "maxParticipants": _first(data, "MaxParticipants"),
            "record": _first(data, "ConferenceRecord"),
            "trim": _first(data, "ConferenceTrim"),
            "statusCallback": _first(data, "ConferenceStatusCallback"),
            "statusCallbackMethod": _first(data, "ConferenceStatusCallbackMethod"),
            "statusCallbackEvent": " ".join(_list(data, "ConferenceStatusCallbackEvent")) or None,
            "recordingStatusCallback": _first(data, "ConferenceRecordingStatusCallback"),
            "coach": coach if coaching else None,
            "participantLabel": _first(data, "Label"),
        }
        response = ET.Element("Response")
        dial = ET.SubElement(response, "Dial")
        noun = ET.SubElement(
            dial, "Conference", {k: str(v) for k, v in attrs.items() if v is not None}
        )
        noun.text = conference.friendly_name
        timeout = int(_first(data, "Timeout", 60) or 60)
        leg = self.emulator.create_call(
            to=to,
            from_=from_,
            twiml=ET.tostring(response, encoding="unicode"),
            status_callback=_first(data, "StatusCallback"),
            status_callback_method=_first(data, "StatusCallbackMethod", "POST"),
            status_callback_event=_list(data, "StatusCallbackEvent") or None,
            timeout=max(5, min(timeout, 600)),
        )
        now = self.emulator.now
        info = {
            "leg": leg,
            "label": attrs["participantLabel"],
            "muted": bool(_bool(data, "Muted")),
            "hold": False,
            "coaching": coaching,
            "call_sid_to_coach": coach if coaching else None,
            "start_conference_on_enter": _bool(data, "StartConferenceOnEnter") is not False,
            "end_conference_on_exit": bool(_bool(data, "EndConferenceOnExit")),
            "created_at": now,
            "updated_at": now,
        }
        conference.pending.append(info)
        return 201, self._participant_json(conference, pending=info)

    def _participant_post(self, match, params, data):
        conference, participant, pending = self._participant(match)
        if participant is None:
            raise RestError(400, 20001, "The participant has not joined the conference yet")
        _absolute_urls(data, "HoldUrl", "AnnounceUrl", "WaitUrl")
        changes = {}
        for param, name in (
            ("Muted", "muted"),
            ("Hold", "hold"),
            ("Coaching", "coaching"),
            ("EndConferenceOnExit", "end_conference_on_exit"),
            ("BeepOnExit", "beep_on_exit"),
        ):
            value = _bool(data, param)
            if value is not None:
                changes[name] = value
        for param, name in (
            ("HoldUrl", "hold_url"),
            ("HoldMethod", "hold_method"),
            ("WaitUrl", "wait_url"),
            ("WaitMethod", "wait_method"),
            ("AnnounceUrl", "announce_url"),
            ("CallSidToCoach", "call_sid_to_coach"),
        ):
            if param in data:
                changes[name] = _first(data, param)
        if changes.get("coaching") and not (
            changes.get("call_sid_to_coach") or participant.call_sid_to_coach
        ):
            raise RestError(400, 20001, "CallSidToCoach is required when Coaching is true")
        self.emulator.update_participant(participant, **changes)
        return 200, self._participant_json(conference, participant)

    def _participant_delete(self, match, params, data):
        conference, participant, pending = self._participant(match)
        if participant is None:
            self.emulator.hangup(pending["leg"], "api")
        else:
            self.emulator.remove_participant(participant)
        return 204, None

    # --- recordings -----------------------------------------------------------------------------
    def _recording_json(self, recording, *, account_level: bool) -> dict:
        live = recording["status"] in ("in-progress", "paused")
        call_sid = recording.get("call_sid")
        if account_level or not call_sid:
            uri = f"{self._base}/Recordings/{recording['sid']}.json"
        else:
            uri = f"{self._base}/Calls/{call_sid}/Recordings/{recording['sid']}.json"
        body = {
            "account_sid": self.emulator.account_sid,
            "api_version": API_VERSION,
            "call_sid": call_sid,
            "channels": recording["channels"],
            "conference_sid": recording.get("conference_sid"),
            "date_created": self._date(recording.get("created_at", recording["started_at"])),
            "date_updated": self._date(recording.get("updated_at", recording["started_at"])),
            "duration": "-1" if live else str(recording["duration"]),
            "encryption_details": None,
            "error_code": None,
            "price": None,
            "price_unit": "USD",
            "sid": recording["sid"],
            "source": recording["source"],
            "start_time": self._date(recording["started_at"]),
            "status": recording["status"],
            "track": "both",
            "uri": uri,
        }
        if account_level:
            body["media_url"] = recording["url"]
            body["subresource_uris"] = {
                "transcriptions": f"{self._base}/Recordings/{recording['sid']}/Transcriptions.json"
            }
        return body

    def _call_recording(self, match):
        leg = self._leg(match)
        key = match.group("re")
        if key == "Twilio.CURRENT":
            recording = leg.live_recordings[-1] if leg.live_recordings else None
        else:
            recording = self.emulator.recordings.get(key)
            if recording is not None and recording.get("call_sid") != leg.sid:
                recording = None
        if recording is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return leg, recording

    def _call_recordings_post(self, match, params, data):
        leg = self._leg(match)
        if leg.ended or leg.answered_at is None:
            raise RestError(400, 21220, "Requested resource is not eligible for recording")
        _absolute_urls(data, "RecordingStatusCallback")
        channels = _first(data, "RecordingChannels", "mono")
        if channels not in ("mono", "dual"):
            raise RestError(400, 20001, f"RecordingChannels must be mono or dual, not {channels!r}")
        recording = self.emulator.start_recording(
            leg,
            channels=2 if channels == "dual" else 1,
            status_callback=_first(data, "RecordingStatusCallback"),
            status_method=method_attr(_first(data, "RecordingStatusCallbackMethod")),
            status_events=_list(data, "RecordingStatusCallbackEvent") or ["completed"],
            trim=_first(data, "Trim", "do-not-trim"),
        )
        return 201, self._recording_json(recording, account_level=False)

    def _call_recordings_get(self, match, params, data):
        leg = self._leg(match)
        items = [
            self._recording_json(r, account_level=False)
            for r in self.emulator.recordings.values()
            if r.get("call_sid") == leg.sid
        ]
        uri = f"{self._base}/Calls/{leg.sid}/Recordings.json"
        return 200, self._page("recordings", items, uri, params)

    def _call_recording_get(self, match, params, data):
        leg, recording = self._call_recording(match)
        return 200, self._recording_json(recording, account_level=False)

    def _call_recording_post(self, match, params, data):
        leg, recording = self._call_recording(match)
        status = _first(data, "Status")
        if status not in ("paused", "in-progress", "stopped"):
            raise RestError(
                400, 20001, f"Status must be paused, in-progress or stopped: {status!r}"
            )
        behavior = _first(data, "PauseBehavior")
        if behavior not in (None, "skip", "silence"):
            raise RestError(400, 20001, f"PauseBehavior must be skip or silence: {behavior!r}")
        if recording["status"] == "completed":
            raise RestError(400, 21220, "The recording is not in progress")
        self.emulator.update_recording(leg, recording, status, behavior)
        body = self._recording_json(recording, account_level=False)
        if status == "stopped":
            body["status"] = "stopped"  # what Twilio answers; the recording is then completed
        return 200, body

    def _recordings_get(self, match, params, data):
        recordings = list(reversed(self.emulator.recordings.values()))
        for param, key in (("CallSid", "call_sid"), ("ConferenceSid", "conference_sid")):
            wanted = _first(params, param)
            if wanted:
                recordings = [r for r in recordings if r.get(key) == wanted]
        items = [self._recording_json(r, account_level=True) for r in recordings]
        return 200, self._page("recordings", items, f"{self._base}/Recordings.json", params)

    def _recording(self, match):
        recording = self.emulator.recordings.get(match.group("re"))
        if recording is None:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        return recording

    def _recording_get(self, match, params, data):
        return 200, self._recording_json(self._recording(match), account_level=True)

    def _recording_delete(self, match, params, data):
        recording = self._recording(match)
        if recording["status"] in ("in-progress", "paused"):
            raise RestError(400, 20001, "A recording in progress cannot be deleted")
        del self.emulator.recordings[recording["sid"]]
        return 204, None
