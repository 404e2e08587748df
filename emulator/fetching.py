"""How a leg talks to the app: signed requests, status callbacks, fetching TwiML, fallbacks."""

import uuid
from email.utils import format_datetime
from urllib.parse import urlencode, urljoin, urlsplit

from .clock import Process, Wait
from .legs import EmulatedCall
from .model import Next, QueueWaitError
from .signing import compute_signature, url_as_signed
from .speech import say_seconds
from .transport import TransportFailure, TransportTimeout
from .twiml import (
    BAD_CONTENT_TYPE,
    BODY_TOO_LARGE,
    CONFERENCE_WAIT_VERBS,
    HTTP_ERROR_STATUS,
    HTTP_INVALID_REDIRECT,
    HTTP_TIMEOUT,
    HTTP_TOO_MANY_REDIRECTS,
    MAX_BODY_BYTES,
    QUEUE_URL_VERBS,
    STATUS_CALLBACK_ERROR,
    TWIML_MEDIA_TYPES,
    WAIT_VERBS,
    WHISPER_VERBS,
    TwimlError,
    parse_document,
)

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


class HttpMixin:
    """The Emulator's requests to the app (see engine.Emulator)."""

    def _request(
        self,
        leg: EmulatedCall,
        url: str,
        method: str,
        fields: dict,
        *,
        kind="twiml",
        transport=None,
    ):
        """Send one signed request in line; return the TransportResponse or raise TwimlError."""
        return _in_line(self._exchange(leg, url, method, fields, kind=kind, transport=transport))

    def _exchange(
        self, leg, url, method, fields, *, kind="twiml", transport=None, pooled=False, lane=None
    ):
        """Generator: one signed request, redirects followed; returns the TransportResponse or
        raises TwimlError. ``pooled`` (the local Twilio): the leg waits while a pool thread
        sends it (see _send; one ``lane``'s requests in order, by default the leg's);
        otherwise it is sent in line and the generator never yields."""
        transport = transport or self.transport
        all_fields = {key: str(value) for key, value in fields.items()}
        leg.requests.append((self.sim.now, method, url, dict(all_fields)))
        leg.note("request", url=url, method=method, fields=dict(all_fields), purpose=kind)
        current_method, current_url = method, url
        for _ in range(11):
            if current_method == "GET":
                separator = "&" if urlsplit(current_url).query else "?"
                target = current_url + (separator + urlencode(all_fields) if all_fields else "")
                body, signed_fields = b"", None
            else:
                target = current_url
                body, signed_fields = urlencode(all_fields).encode("utf-8"), all_fields
            signature = compute_signature(url_as_signed(target), signed_fields, self.auth_token)
            headers = {
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
                "Accept": "*/*",
                "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            }
            if current_method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            if leg.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in leg.cookies.items())
            request = (current_method, current_url, target, body, headers)
            try:
                if pooled:
                    response = yield from self._send(leg, lane or leg.sid, *request)
                else:
                    response = _send_in_line(self.request_log, leg, transport, *request)
            except TransportTimeout as error:
                raise TwimlError(HTTP_TIMEOUT, f"{url}: no answer within 15 s ({error})") from None
            except TransportFailure as error:
                raise TwimlError(HTTP_TIMEOUT, f"{url}: cannot connect ({error})") from None
            for name, value in response.cookies.items():  # Twilio keeps cookies per call
                if value is None:
                    leg.cookies.pop(name, None)
                else:
                    leg.cookies[name] = value
            location = response.headers.get("location")
            if 300 <= response.status < 400:
                # Twilio follows 301, 302, 303 and 307 only (a 308 is not a redirect to it).
                if response.status not in (301, 302, 303, 307) or not location:
                    raise TwimlError(
                        HTTP_INVALID_REDIRECT, f"{url}: HTTP {response.status} is not followed"
                    )
                current_url = urljoin(current_url, location)
                if response.status in (301, 302, 303):
                    current_method = "GET"
                continue
            return response
        raise TwimlError(HTTP_TOO_MANY_REDIRECTS, f"{url}: more than 10 redirects")

    def _send(self, leg, lane, method, url, target, body, headers):
        """Generator: hand one request to the pool (realtime.WebhookPool) and wait for its
        answer, while the engine goes on with other calls. The answer comes back on the
        engine's thread and resumes this Wait only (its ticket); if the call was interrupted
        meanwhile, the answer is logged and dropped."""
        process, ticket = self.sim.current, object()

        def answered(response, error):  # on the engine's thread
            self.request_log.append((leg.sid, method, url, None if error else response.status))
            process.answer(ticket, (response, error))

        job = self.webhook_pool.send(lane, method, target, body, headers, answered)
        try:
            response, error = yield Wait(ticket=ticket)
        except BaseException:  # interrupted: the leg's next request goes without waiting
            self.webhook_pool.release(job)
            raise
        if error is not None:
            raise error
        return response

    def _record_error(self, leg: EmulatedCall, code: int, url: str, message: str) -> None:
        error = {
            "at": self.sim.now,
            "call_sid": leg.sid,
            "code": code,
            "url": url,
            "message": message,
        }
        leg.errors.append(error)
        self.errors.append(error)
        leg.note("error", text=message, url=url, code=code)

    def _status_callback(self, leg: EmulatedCall, event: str) -> None:
        if not leg.status_callback or event not in leg.status_events:
            return
        fields = leg.fields()
        fields.update(
            {
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(leg.sequence),
                "Timestamp": format_datetime(self.datetime_at(), usegmt=True),
            }
        )
        if event == "completed":
            fields["CallDuration"] = str(leg.duration)
            if leg.recording is not None:
                fields["RecordingUrl"] = leg.recording["url"]
                fields["RecordingSid"] = leg.recording["sid"]
                fields["RecordingDuration"] = str(leg.recording["duration"])
            fields["Duration"] = str((leg.duration + 59) // 60)
        leg.sequence += 1
        if self._pooled:
            # The local Twilio: from the webhook pool, holding nobody, one leg's in order (a
            # lane of their own, so they wait for neither the leg's TwiML requests nor for a
            # few dedicated threads: behind a busy app those fell a minute behind).
            self._notify(
                leg, leg.status_callback, leg.status_method, fields, kind="status",
                lane=f"{leg.sid}/status",
            )  # fmt: skip
            return
        if self.status_callback_sender is not None:
            # The local Twilio: sent beside the calls (in order per leg), not in their way.
            self.status_callback_sender.submit(leg, leg.status_callback, leg.status_method, fields)
            return
        self._send_status_callback(leg, leg.status_callback, leg.status_method, fields)

    def _send_status_callback(self, leg, url, method, fields, *, transport=None, report=None):
        """One status callback; a failure is error 15003 on the call (`report` hands the error
        to the emulator's thread when this runs on another)."""
        record = report or self._record_error
        try:
            response = self._request(leg, url, method, fields, kind="status", transport=transport)
        except TwimlError as error:
            record(leg, STATUS_CALLBACK_ERROR, url, error.message)
            return
        if response.status >= 400:
            record(leg, STATUS_CALLBACK_ERROR, url, f"answered {response.status}")

    @property
    def _pooled(self) -> bool:
        """Blocking webhooks go to the pool (the local Twilio) rather than in line."""
        return self.webhook_pool is not None

    def _notify(self, leg, url, method, fields, *, kind, lane=None) -> None:
        """A callback whose answer matters only when it fails (error 15003 on the leg): in line
        in process; on the local Twilio from the pool, holding nobody (a process of its own;
        one ``lane``'s callbacks in order)."""
        if self._pooled:
            notifying = self._notifying(leg, url, method, fields, kind, lane, True)
            Process(self.sim, notifying, f"{leg.sid}-{kind}").start()
        else:
            _in_line(self._notifying(leg, url, method, fields, kind, lane, False))

    def _notifying(self, leg, url, method, fields, kind, lane, pooled):
        try:
            response = yield from self._exchange(
                leg, url, method, fields, kind=kind, pooled=pooled, lane=lane
            )
        except TwimlError as error:
            self._record_error(leg, STATUS_CALLBACK_ERROR, url, error.message)
            return
        if response.status >= 400:
            self._record_error(leg, STATUS_CALLBACK_ERROR, url, f"answered {response.status}")

    def _fetch_text(self, leg, nxt: Next, ctx: str, pooled: bool):
        """Generator: (kind, text, url), kind 'twiml' or 'audio'. Raises TwimlError."""
        if nxt.twiml is not None:
            return "twiml", nxt.twiml, nxt.url
        fields = leg.fields()
        fields.update(nxt.fields)
        response = yield from self._exchange(leg, nxt.url, nxt.method, fields, pooled=pooled)
        if not 200 <= response.status < 300:
            raise TwimlError(HTTP_ERROR_STATUS, f"{nxt.url} answered HTTP {response.status}")
        if len(response.body) > MAX_BODY_BYTES:
            raise TwimlError(BODY_TOO_LARGE, f"{nxt.url}: body over 64 kB")
        media_type = response.media_type
        if media_type.startswith("audio/"):
            return "audio", "", nxt.url
        if media_type not in TWIML_MEDIA_TYPES:
            raise TwimlError(
                BAD_CONTENT_TYPE, f"{nxt.url} answered Content-Type {media_type or '(none)'!r}"
            )
        return "twiml", response.text(), nxt.url

    def _load(self, leg, nxt: Next, ctx: str):
        """Fetch (in line) + parse. Returns a Document or ("audio", url). Raises TwimlError."""
        return _in_line(self._loading(leg, nxt, ctx, pooled=False))

    def _loading(self, leg, nxt: Next, ctx: str, pooled: bool):
        """Generator: what _load does; with ``pooled`` the leg waits for the pool."""
        kind, text, url = yield from self._fetch_text(leg, nxt, ctx, pooled)
        if kind == "audio":
            return ("audio", url)
        allowed = {
            "wait": WAIT_VERBS,
            "queue-url": QUEUE_URL_VERBS,
            "whisper": WHISPER_VERBS,
            "conference-wait": CONFERENCE_WAIT_VERBS,
        }.get(ctx)
        return parse_document(text, url, allowed_verbs=allowed)

    def _document(self, leg, nxt: Next, ctx: str):
        """Generator: the document to execute, after Twilio's fallback dance; None = give up."""
        try:
            return (yield from self._loading(leg, nxt, ctx, self._pooled))
        except TwimlError as error:
            self._record_error(leg, error.code, nxt.url, error.message)
            if ctx != "main":
                raise QueueWaitError(error.message) from None
            if leg.fallback_url and not nxt.is_fallback:
                # The same fields as the request that failed (a Gather's Digits too), and the error.
                fields = {**nxt.fields, "ErrorCode": str(error.code), "ErrorUrl": nxt.url}
                fallback = Next(leg.fallback_url, leg.fallback_method, fields, is_fallback=True)
                return (yield from self._document(leg, fallback, ctx))
        # Twilio's own last words.
        if leg.answered_at is None:
            self._answer(leg)
        seconds = say_seconds(APPLICATION_ERROR)
        leg.note("say", text=APPLICATION_ERROR, language="en-US", voice="", generic_error=True)
        yield Wait(seconds)
        return None

    def _request_ignoring(self, leg, nxt: Next) -> None:
        """Request a URL whose TwiML can no longer run (the call is over or moved on). On the
        local Twilio it goes to the pool without holding the leg (a process of its own)."""
        if self._pooled:
            Process(self.sim, self._ignoring(leg, nxt, True), f"{leg.sid}-ignored").start()
        else:
            _in_line(self._ignoring(leg, nxt, False))

    def _ignoring(self, leg, nxt: Next, pooled: bool):
        fields = leg.fields()
        fields.update(nxt.fields)
        try:
            response = yield from self._exchange(leg, nxt.url, nxt.method, fields, pooled=pooled)
        except TwimlError as error:
            self._record_error(leg, error.code, nxt.url, error.message)
            return
        if not 200 <= response.status < 300:
            self._record_error(leg, HTTP_ERROR_STATUS, nxt.url, f"answered HTTP {response.status}")


def _send_in_line(request_log, leg, transport, method, url, target, body, headers):
    try:
        response = transport.send(method, target, body=body, headers=headers)
    except (TransportTimeout, TransportFailure):
        request_log.append((leg.sid, method, url, None))
        raise
    request_log.append((leg.sid, method, url, response.status))
    return response


def _in_line(generator):
    """The return value of a generator that sends its requests in line (it never waits)."""
    try:
        generator.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("a request sent in line waited")
