"""TwiML the queues app builds, for its own views and for the flows of ivr and agents."""

import math

from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from .models import Queue, QueueResult


def _abs(request, name: str, queue: Queue) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"slug": queue.slug}))


def _sayings(queue: Queue, field: str, **values) -> list[tuple[str, dict]]:
    """One message field in each of the queue's languages, in order, without the blank ones."""
    sayings = []
    for messages in queue.messages.all():
        text = getattr(messages, field)
        if not text:
            continue
        if values:
            text = text.format(**values)
        attrs = {"language": messages.language}
        if messages.voice:
            attrs["voice"] = messages.voice
        sayings.append((text, attrs))
    return sayings


def _say_each(response: VoiceResponse, queue: Queue, field: str, **values) -> None:
    """Say one message field in each of the queue's languages, in order; skip blank ones."""
    for text, attrs in _sayings(queue, field, **values):
        response.say(text, **attrs)


# A slow reading of text-to-speech, so that the estimate of an announcement is rather too long
# than too short: about five characters a second in Japanese, Chinese or Korean, twelve in
# alphabetic languages.
_SLOW_CJK_RATE = 5.0
_SLOW_ALPHABETIC_RATE = 12.0


def speech_seconds_estimate(text: str, language: str) -> int:
    """Whole seconds a <Say> of ``text`` may take, read slowly (at least one)."""
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return 0
    if language.lower().startswith(("ja", "zh", "cmn", "yue", "ko")):
        seconds = len(visible) / _SLOW_CJK_RATE
    else:
        wide = sum(1 for char in visible if ord(char) >= 0x2E80)  # CJK scripts and full width
        seconds = wide / _SLOW_CJK_RATE + (len(visible) - wide) / _SLOW_ALPHABETIC_RATE
    return max(1, math.ceil(seconds))


def add_enqueue(
    response: VoiceResponse, *, request, queue: Queue, action_url: str, caller_priority: int = 0
) -> None:
    """Put the caller in ``queue``; ``action_url`` is requested when the caller leaves it. A
    caller priority rides on the wait URL, which opens the visit."""
    wait_url = _abs(request, "queues:wait", queue)
    if caller_priority:
        wait_url += f"?priority={int(caller_priority)}"
    response.enqueue(
        queue.slug,
        action=action_url,
        method="POST",
        wait_url=wait_url,
        wait_url_method="POST",
    )


def add_exit_message(response: VoiceResponse, *, queue: Queue, result: str) -> None:
    """What the caller hears on leaving the queue before the flow continues."""
    if result == QueueResult.QUEUE_FULL:
        _say_each(response, queue, "queue_full_message")


def add_dial_queue(
    response: VoiceResponse,
    *,
    request,
    queue: Queue,
    action_url: str | None = None,
    timeout: int = 30,
    record: str | None = None,
) -> None:
    """Take the front caller of ``queue`` (an agent's leg). ``record`` None follows the queue's
    "record answered calls" setting; the default action records the talk time."""
    if record is None and queue.record_answered_calls:
        record = "record-from-answer-dual"
    dial_attrs = {"record": record} if record else {}
    dial = response.dial(
        action=action_url or _abs(request, "queues:dial-action", queue),
        method="POST",
        timeout=timeout,
        **dial_attrs,
    )
    dial.queue(queue.slug, url=_abs(request, "queues:connect", queue), method="POST")


def wait_response(
    *,
    queue: Queue,
    position: int | None,
    queue_time: int,
    announce: bool,
    minutes: int | None,
    last_announced: int | None,
    callback_action: str | None = None,
) -> VoiceResponse:
    """One pass of the wait loop: maybe the announcement, then hold music or a pause until the
    next announcement is due.

    Twilio asks again only when this document has been played, so with silence the document
    never lasts past the max wait: the announcement counts with its pause and a slow estimate of
    its speech, and is left out when it would not fit. (A hold-music track plays to its end.)

    With ``callback_action`` (a callback is due), the announcement and the callback offer are
    wrapped in ``<Gather numDigits="1">`` whose action gets the key; silence falls through to
    the rest of the document, so the wait loop goes on unchanged.
    """
    response = VoiceResponse()
    remaining = None
    if queue.max_wait_seconds is not None:
        remaining = queue.max_wait_seconds - queue_time
        if remaining <= 0:
            response.leave()
            return response
    spoken = 0
    if announce and position is not None:
        if minutes is not None and queue.announce_estimated_wait and _has_wait_message(queue):
            sayings = _sayings(
                queue, "position_with_wait_message", position=position, minutes=minutes
            )
        else:
            sayings = _sayings(queue, "position_message", position=position)
        spoken = queue.announce_pause_seconds + sum(
            speech_seconds_estimate(text, attrs["language"]) for text, attrs in sayings
        )
        if remaining is not None and not queue.hold_music_url and spoken + 1 > remaining:
            spoken = 0  # no time left to say it: the caller leaves first
        else:
            target = response
            if callback_action:
                offer = _sayings(queue, "callback_offer_message")
                sayings = sayings + offer
                spoken += sum(speech_seconds_estimate(t, a["language"]) for t, a in offer)
                target = response.gather(
                    num_digits=1, action=callback_action, method="POST", timeout=1
                )
            if queue.announce_pause_seconds:
                target.pause(length=queue.announce_pause_seconds)
            for text, attrs in sayings:
                target.say(text, **attrs)
    if queue.hold_music_url:
        response.play(queue.hold_music_url)
        return response
    silence = _silence_seconds(
        queue=queue, queue_time=queue_time, announce=announce, last_announced=last_announced
    )
    if remaining is not None:
        silence = min(silence, remaining - spoken)
    response.pause(length=max(1, silence))
    return response


# How long the overload document holds a caller of a queue this process has not read yet.
SHED_PAUSE_SECONDS = 10


def overload_wait_response(*, hold_music_url: str) -> VoiceResponse:
    """The wait loop when the app is behind: hold music (or a pause), and nothing after it, so
    Twilio asks the wait URL again when it runs out, as after every wait document. Built from
    nothing the database must say; no position, no announcement."""
    response = VoiceResponse()
    if hold_music_url:
        response.play(hold_music_url)
    else:
        response.pause(length=SHED_PAUSE_SECONDS)
    return response


def _has_wait_message(queue: Queue) -> bool:
    return any(m.position_with_wait_message for m in queue.messages.all())


def _silence_seconds(
    *, queue: Queue, queue_time: int, announce: bool, last_announced: int | None
) -> int:
    """Silence until the next announcement is due (the Pause loop without hold music)."""
    if announce:
        seconds = queue.announce_every_seconds - queue.announce_pause_seconds
    elif last_announced is not None:
        seconds = queue.announce_every_seconds - (queue_time - last_announced)
    else:
        seconds = queue.announce_every_seconds
    if queue.max_wait_seconds is not None:
        seconds = min(seconds, queue.max_wait_seconds - queue_time)
    return max(1, seconds)


def connect_response(*, queue: Queue) -> VoiceResponse:
    """Heard by the caller just before the agent is bridged."""
    response = VoiceResponse()
    _say_each(response, queue, "connect_message")
    if queue.record_answered_calls:
        _say_each(response, queue, "recording_notice")
    return response


def callback_number_response(
    *, queue: Queue, number: str | None, action: str, invalid: bool = False
) -> VoiceResponse:
    """The callback's number confirmation: the caller's number said, key 1 to confirm or key
    another number and #; with no usable number (withheld, or a keyed number refused) the
    invalid message asks for one. Silence returns to the wait loop with the place kept."""
    response = VoiceResponse()
    gather = response.gather(action=action, method="POST", finish_on_key="#", timeout=6)
    if invalid or not number:
        for text, attrs in _sayings(queue, "callback_invalid_message"):
            gather.say(text, **attrs)
    else:
        for text, attrs in _sayings(queue, "callback_number_message", number=_spoken(number)):
            gather.say(text, **attrs)
    return response


def _spoken(number: str) -> str:
    """A number read digit by digit (spaces between), national digits after the +81."""
    return " ".join(number.lstrip("+"))


def leave_response() -> VoiceResponse:
    """Out of the queue: the Enqueue action's TwiML is what the caller hears next."""
    response = VoiceResponse()
    response.leave()
    return response


def add_callback_confirmed(response: VoiceResponse, *, queue: Queue, number: str) -> None:
    """The caller left the queue for a callback: the confirmation, then the call ends."""
    _say_each(response, queue, "callback_confirmed_message", number=_spoken(number))
    response.hangup()
