"""Parsing and validating TwiML the way Twilio does before executing it."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Twilio's error codes (docs/twilio.md §1).
HTTP_RETRIEVAL_FAILURE = 11200
HTTP_TIMEOUT = 11205  # "HTTP connection failure": no connection, or no answer within 15 s
HTTP_TOO_MANY_REDIRECTS = 11215
HTTP_INVALID_REDIRECT = 11216  # a 3xx other than 301/302/303/307, or without Location
ENQUEUE_NAME_TOO_SHORT = 14204
ENQUEUE_NAME_TOO_LONG = 14205
DIAL_QUEUE_NAME_TOO_SHORT = 14212
DIAL_QUEUE_NAME_TOO_LONG = 14213
MAX_QUEUE_NAME = 64
HTTP_ERROR_STATUS = 11217
DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_VALIDATION = 12200
BAD_CONTENT_TYPE = 12300
BODY_TOO_LARGE = 11750
STATUS_CALLBACK_ERROR = 15003

MAX_BODY_BYTES = 64 * 1024
TWIML_MEDIA_TYPES = ("text/xml", "application/xml", "text/html")

VERBS = {
    "Say",
    "Play",
    "Pause",
    "Gather",
    "Redirect",
    "Hangup",
    "Reject",
    "Record",
    "Enqueue",
    "Leave",
    "Dial",
}
# Verbs Twilio knows but this emulator does not execute: refused with 12200 rather than ignored.
KNOWN_UNSUPPORTED = {"Connect", "Start", "Stop", "Pay", "Prompt", "Refer", "Sms", "Message"}
GATHER_CHILDREN = {"Say", "Play", "Pause"}
DIAL_NOUNS = {"Number", "Client", "Queue", "Conference"}
# Nouns Twilio knows but this emulator does not dial: refused with 12200 as well.
UNSUPPORTED_NOUNS = {"Sip", "Sim", "Application"}
SAY_SSML = {
    "break",
    "emphasis",
    "lang",
    "p",
    "phoneme",
    "prosody",
    "s",
    "say-as",
    "sub",
    "w",
    "amazon_domain",  # <amazon:domain> / <amazon:effect>: see _ssml_prefixes
    "amazon_effect",
}
CLIENT_CHILDREN = {"Identity", "Parameter"}
ENQUEUE_CHILDREN = {"Task"}

# What each execution context allows (docs/twilio.md §3).
WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
QUEUE_URL_VERBS = {"Play", "Say", "Pause", "Redirect"}
WHISPER_VERBS = {"Play", "Say", "Gather", "Hangup"}  # a <Number url> / <Client url> document
CONFERENCE_WAIT_VERBS = {"Play", "Say", "Pause", "Redirect"}  # waitUrl, holdUrl, announceUrl


def int_attr(value, default: int) -> int:
    """An integer attribute as Twilio reads it: anything unreadable is the default."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def bool_attr(value, default: bool = False) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() == "true"


def method_attr(value, default="POST") -> str:
    """A ``method`` attribute (or REST parameter): GET or POST, anything else the default."""
    method = (value or default).strip().upper()
    return method if method in ("GET", "POST") else default


class TwimlError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Document:
    url: str  # relative URLs inside resolve against this
    root: ET.Element


def _check_children(element: ET.Element, allowed: set[str], where: str) -> None:
    for child in element:
        if child.tag not in allowed:
            raise TwimlError(SCHEMA_VALIDATION, f"<{child.tag}> is not allowed inside <{where}>")


def parse_document(text: str, url: str, *, allowed_verbs: set[str] | None = None) -> Document:
    """Parse and check a TwiML document; raise TwimlError with Twilio's code when it is bad."""
    stripped = text.strip()
    if not stripped:
        raise TwimlError(DOCUMENT_PARSE_FAILURE, "empty document")
    if stripped.startswith("<?xml") and not text.startswith("<?xml"):
        raise TwimlError(DOCUMENT_PARSE_FAILURE, "XML declaration not at the start of the document")
    try:
        root = ET.fromstring(_ssml_prefixes(stripped))
    except ET.ParseError as error:
        raise TwimlError(DOCUMENT_PARSE_FAILURE, f"XML parse error: {error}") from None
    if root.tag != "Response":
        raise TwimlError(DOCUMENT_PARSE_FAILURE, f"root element is <{root.tag}>, not <Response>")
    for verb in root:
        tag = verb.tag
        if tag not in VERBS:
            kind = "unsupported" if tag in KNOWN_UNSUPPORTED else "unknown"
            raise TwimlError(SCHEMA_VALIDATION, f"{kind} verb <{tag}>")
        if allowed_verbs is not None and tag not in allowed_verbs:
            raise TwimlError(SCHEMA_VALIDATION, f"<{tag}> is not allowed in this document")
        if tag == "Gather":
            _check_children(verb, GATHER_CHILDREN, "Gather")
            for child in verb:
                _check_leaf(child)
        elif tag == "Dial":
            for noun in verb:
                if noun.tag in UNSUPPORTED_NOUNS:
                    raise TwimlError(SCHEMA_VALIDATION, f"<Dial><{noun.tag}> is not emulated")
            _check_children(verb, DIAL_NOUNS, "Dial")
            nouns = list(verb)
            if not nouns and not (verb.text or "").strip():
                raise TwimlError(SCHEMA_VALIDATION, "<Dial> has nothing to dial")
            for noun in nouns:
                if noun.tag == "Client":
                    _check_children(noun, CLIENT_CHILDREN, "Client")
                elif len(noun):
                    raise TwimlError(SCHEMA_VALIDATION, f"<{noun.tag}> cannot contain elements")
            for noun in nouns:
                if noun.tag == "Queue":
                    _check_queue_name(noun, DIAL_QUEUE_NAME_TOO_SHORT, DIAL_QUEUE_NAME_TOO_LONG)
            for only in ("Queue", "Conference"):
                if any(noun.tag == only for noun in nouns) and len(nouns) > 1:
                    raise TwimlError(SCHEMA_VALIDATION, f"<{only}> must be the only noun of <Dial>")
            if any(n.tag == "Conference" and not (n.text or "").strip() for n in nouns):
                raise TwimlError(SCHEMA_VALIDATION, "<Conference> without a name")
        elif tag == "Enqueue":
            _check_children(verb, ENQUEUE_CHILDREN, "Enqueue")
            if len(verb) or verb.get("workflowSid"):
                raise TwimlError(SCHEMA_VALIDATION, "<Enqueue> into TaskRouter is not emulated")
            _check_queue_name(verb, ENQUEUE_NAME_TOO_SHORT, ENQUEUE_NAME_TOO_LONG)
        else:
            _check_leaf(verb)
    return Document(url=url, root=root)


def _check_queue_name(element: ET.Element, too_short: int, too_long: int) -> None:
    name = (element.text or "").strip()
    if not name:
        raise TwimlError(too_short, f"<{element.tag}> without a queue name")
    if len(name) > MAX_QUEUE_NAME:
        raise TwimlError(too_long, f"queue name longer than {MAX_QUEUE_NAME} characters")


def _ssml_prefixes(text: str) -> str:
    """Twilio takes <amazon:effect>/<amazon:domain> inside <Say> without a namespace declaration,
    which a namespace-aware XML parser refuses; read them as plain element names."""
    if "amazon:" not in text:
        return text
    return text.replace("<amazon:", "<amazon_").replace("</amazon:", "</amazon_")


def _check_leaf(verb: ET.Element) -> None:
    if verb.tag == "Say":
        for node in verb.iter():
            if node is not verb and node.tag not in SAY_SSML:
                raise TwimlError(SCHEMA_VALIDATION, f"<{node.tag}> is not allowed inside <Say>")
    elif len(verb):
        raise TwimlError(SCHEMA_VALIDATION, f"<{verb.tag}> cannot contain elements")


def say_text(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()
