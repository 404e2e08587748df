"""A faithful emulator of Twilio Programmable Voice, for tests, demos and load benchmarks.

    from emulator import Emulator, Caller, AgentActor, DjangoTransport, HttpTransport

See docs/emulator.md.
"""

from .actors import AgentActor, Caller, parse_digits
from .engine import EmulatedCall, Emulator
from .model import TranscriptEntry
from .signing import compute_signature
from .transport import DjangoTransport, HttpTransport

__all__ = [
    "AgentActor",
    "Caller",
    "DjangoTransport",
    "EmulatedCall",
    "Emulator",
    "HttpTransport",
    "TranscriptEntry",
    "compute_signature",
    "parse_digits",
]
