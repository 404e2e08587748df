""" "Try this flow": a call placed by the Twilio emulator against the real webhooks, in-process,
inside a transaction that is rolled back, so a try leaves no call, event or visit behind."""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from emulator import Caller, DjangoTransport, Emulator
from telephony.webhooks import SIGNING_TOKEN_ENVIRON

from .models import Flow

TRY_NUMBER = "+10000000000"
TRY_CALLER = "+819000000000"
# A try stops here (virtual seconds): long enough to hear a queue's first announcements.
HORIZON_SECONDS = 75
SILENCE = "-"


@dataclass
class TryLine:
    at: float
    kind: str  # say, play, pause, gather, keys, no-input, record, enqueue, dial, hangup, error
    text: str = ""
    attrs: dict = field(default_factory=dict)


@dataclass
class TryResult:
    lines: list[TryLine]
    waiting_for_keys: bool  # the transcript stops at a prompt that waits for the next key
    ended: bool
    num_digits: int | None = None


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


def _cut(transcript, presses: int) -> tuple[list[TryLine], bool, int | None]:
    """What the caller lives through up to the first prompt beyond the keys given."""
    lines, gathers, num_digits = [], 0, None
    for entry in transcript:
        if entry.kind == "gather":
            gathers += 1
            num_digits = entry.attrs.get("numDigits")
        if entry.kind == "no-input" and gathers > presses:
            return lines, True, num_digits
        line = _line(entry)
        if line is not None:
            lines.append(line)
    return lines, False, None


def flow_try(*, flow: Flow, keys: list[str], scheme: str, host: str) -> TryResult:
    """Place one emulated call into ``flow``'s start; ``keys`` answer its prompts in turn."""
    base_url = f"{scheme}://{host}"
    token = settings.TWILIO_AUTH_TOKEN or secrets.token_hex(16)
    account_sid = settings.TWILIO_ACCOUNT_SID or "AC" + secrets.token_hex(16)
    # Only an unconfigured installation gets a throwaway token, handed to the webhooks with each
    # request of this try (never through the settings, which every thread shares).
    environ = {} if settings.TWILIO_AUTH_TOKEN else {SIGNING_TOKEN_ENVIRON: token}
    emu = Emulator(
        transport=DjangoTransport(environ=environ),
        account_sid=account_sid,
        auth_token=token,
        base_url=base_url,
        start=datetime.now(UTC).replace(microsecond=0),
    )
    emu.add_number(TRY_NUMBER, voice_url=reverse("ivr:start", kwargs={"flow_id": flow.id}))
    caller = Caller(digits=keys, hangup_after=HORIZON_SECONDS)
    call = emu.place_call(to=TRY_NUMBER, from_=TRY_CALLER, caller=caller)
    with transaction.atomic():
        try:
            emu.run(until=HORIZON_SECONDS + 5)
        finally:
            transaction.set_rollback(True)
    presses = len(keys)
    lines, waiting, num_digits = _cut(call.transcript, presses)
    return TryResult(
        lines=lines,
        waiting_for_keys=waiting,
        ended=not waiting,
        num_digits=num_digits,
    )
