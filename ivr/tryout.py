""" "Try this flow": a call placed by the Twilio emulator against the real webhooks, in-process,
inside a transaction that is rolled back, so a try leaves no call, event or visit behind. The
call runs on the emulator's virtual clock until it really ends."""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from emulator import Caller, DjangoTransport, Emulator
from telephony.webhooks import SIGNING_TOKEN_ENVIRON, VIRTUAL_NOW_ENVIRON

from . import selectors
from .models import CallPathEntry, Flow, Step

TRY_NUMBER = "+10000000000"
TRY_CALLER = "+819000000000"
# A try follows the call on the virtual clock until it ends; one still going after this long
# (a caller waiting in a queue nobody serves) is stopped, and the transcript says so.
HORIZON_SECONDS = 15 * 60
# The simulation advances by this much between checks for a prompt beyond the keys given.
STRIDE_SECONDS = 30
SILENCE = "-"


@dataclass
class TryLine:
    at: float
    # say, play, pause, gather, keys, no-input, record, enqueue, queue-exit, dial, hangup, error,
    # end, hours (a business-hours step's decision), stopped (the try ended a call still going)
    kind: str
    text: str = ""
    attrs: dict = field(default_factory=dict)


@dataclass
class TryResult:
    lines: list[TryLine]
    waiting_for_keys: bool  # the transcript stops at a prompt that waits for the next key
    ended: bool
    num_digits: int | None = None
    at: datetime | None = None  # when the call was placed (real or "as if")
    stopped: bool = False  # the try hung up a call that was still going at the horizon


def parse_keys(raw: str) -> list[str]:
    """``"1,-,23"`` -> ["1", "-", "23"]; anything but phone keys and ``-`` is dropped."""
    keys = []
    for part in raw.split(","):
        part = part.strip()
        if part == SILENCE or (part and all(c in "0123456789*#" for c in part)):
            keys.append(part[:20])
    return keys[:50]


def _line(entry) -> TryLine | None:
    kind = entry.kind
    if kind in ("say", "keys", "hangup", "end"):
        return TryLine(entry.at, kind, entry.text, dict(entry.attrs))
    if kind == "play":
        return TryLine(entry.at, kind, entry.url)
    if kind == "pause":
        return TryLine(entry.at, kind, str(entry.attrs.get("seconds", "")))
    if kind in ("gather", "no-input", "record", "enqueue", "queue-exit", "dial", "error"):
        return TryLine(entry.at, kind, entry.text, dict(entry.attrs))
    return None


def _cut(transcript, presses: int, hours=()) -> tuple[list[TryLine], bool, int | None]:
    """What the caller lives through up to the first prompt beyond the keys given; ``hours``
    lines go right after the request whose answer made the decision (same virtual time)."""
    lines, gathers, num_digits = [], 0, None
    pending = list(hours)
    for entry in transcript:
        if entry.kind == "request":
            while pending and pending[0].at <= entry.at + 0.001:
                lines.append(pending.pop(0))
        if entry.kind == "gather":
            gathers += 1
            num_digits = entry.attrs.get("numDigits")
        if entry.kind == "no-input" and gathers > presses:
            return lines, True, num_digits
        line = _line(entry)
        if line is not None:
            lines.append(line)
    return lines, False, None


def _hours_lines(call_sid: str, start: datetime) -> list[TryLine]:
    """Each business-hours step the call went through, with the reason for its choice (read
    from the call's path, before the try is rolled back)."""
    lines, snapshots = [], {}
    entries = CallPathEntry.objects.filter(call__sid=call_sid, kind=Step.Kind.HOURS)
    for entry in entries.order_by("at", "id"):
        if entry.flow_id not in snapshots:
            snapshots[entry.flow_id] = selectors.flow_snapshot_current(entry.flow_id)
        snapshot = snapshots[entry.flow_id]
        step = snapshot.step(entry.step_id) if snapshot is not None else None
        at = (entry.at - start).total_seconds()
        if step is None or step.schedule is None:
            lines.append(TryLine(at, "hours", entry.step_name, {"state": "closed"}))
            continue
        verdict = step.schedule.verdict(entry.at)
        attrs = {
            "state": verdict.state,
            "schedule": step.schedule.name,
            "local": verdict.local,
            "time_zone": step.schedule.time_zone,
            "opening": ", ".join(
                f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in verdict.opening
            ),
        }
        lines.append(TryLine(at, "hours", entry.step_name, attrs))
    return lines


def flow_try(
    *, flow: Flow, keys: list[str], scheme: str, host: str, at: datetime | None = None
) -> TryResult:
    """Place one emulated call into ``flow``'s start; ``keys`` answer its prompts in turn.

    ``at`` places the call "as if" at that moment (default: now). Every webhook of the try gets
    its own request's virtual time explicitly, in the request; nothing global changes.
    """
    base_url = f"{scheme}://{host}"
    token = settings.TWILIO_AUTH_TOKEN or secrets.token_hex(16)
    account_sid = settings.TWILIO_ACCOUNT_SID or "AC" + secrets.token_hex(16)
    # Only an unconfigured installation gets a throwaway token, handed to the webhooks with each
    # request of this try (never through the settings, which every thread shares).
    environ = {} if settings.TWILIO_AUTH_TOKEN else {SIGNING_TOKEN_ENVIRON: token}
    start = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    emu = Emulator(
        transport=DjangoTransport(
            environ=environ, per_request=lambda: {VIRTUAL_NOW_ENVIRON: emu.datetime_at()}
        ),
        account_sid=account_sid,
        auth_token=token,
        base_url=base_url,
        start=start,
    )
    emu.add_number(TRY_NUMBER, voice_url=reverse("ivr:start", kwargs={"flow_id": flow.id}))
    call = emu.place_call(to=TRY_NUMBER, from_=TRY_CALLER, caller=Caller(digits=keys))
    presses = len(keys)
    stopped = False
    with transaction.atomic():
        try:
            while not call.ended:
                if emu.now >= HORIZON_SECONDS:
                    stopped = True
                    break
                emu.run(until=min(emu.now + STRIDE_SECONDS, HORIZON_SECONDS))
                if _cut(call.transcript, presses)[1]:
                    break
            hours = _hours_lines(call.sid, start)
        finally:
            transaction.set_rollback(True)
    lines, waiting, num_digits = _cut(call.transcript, presses, hours)
    if stopped:
        queue = call.member.visit.queue if call.member is not None else ""
        lines.append(TryLine(emu.now, "stopped", queue, {"minutes": HORIZON_SECONDS // 60}))
    return TryResult(
        lines=lines,
        waiting_for_keys=waiting,
        ended=not waiting,
        num_digits=num_digits,
        at=start,
        stopped=stopped,
    )
