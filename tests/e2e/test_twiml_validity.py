"""Walk every TwiML document the app serves, following every URL it generates as Twilio would,
and check each against the nesting rules of docs/twilio.md §3."""

import itertools
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group

from agents.models import Agent, QueueMembership
from agents.roles import AGENTS
from ivr.flowfile import FORMAT, flows_import
from queues.models import Queue, QueueMessages
from tests.conftest import call_fields
from tests.factories import QUEUE_SID, softphone_fields, twiml

pytestmark = pytest.mark.django_db

NUMBER = "+815011110001"
VERBS = {
    "Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Record", "Enqueue",
    "Leave", "Dial",
}  # fmt: skip
GATHER_CHILDREN = {"Say", "Play", "Pause"}
QUEUE_URL_VERBS = {"Say", "Play", "Pause", "Redirect"}
WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
DIAL_NOUNS = {"Number", "Client", "Queue", "Sip", "Conference"}
QUEUE_RESULTS = [
    "bridged", "hangup", "leave", "redirected", "queue-full", "error", "system-error",
    "redirected-from-bridged", "bridging-in-process",
]  # fmt: skip
DIAL_STATUSES = ["completed", "answered", "busy", "no-answer", "failed", "canceled"]
_sids = (f"CA{n:032x}" for n in itertools.count(1))


def _flows():
    steps = [
        {
            "name": "menu",
            "kind": "menu",
            "text": "Press a key.",
            "num_digits": 1,
            "timeout": 5,
            "invalid_message": "Again.",
            "no_input_message": "Nothing pressed.",
            "max_retries": 1,
            "options": [
                {"key": str(key), "target": target}
                for key, target in enumerate(
                    ["say", "voicemail", "dial", "goto", "hours", "bye"], start=1
                )
            ],
        },
        {"name": "say", "kind": "say", "text": "Connecting.", "next_step": "queue"},
        {"name": "queue", "kind": "queue", "queue": "support", "next_step": "overflow"},
        {"name": "overflow", "kind": "say", "text": "Nobody is free.", "next_step": "voicemail"},
        {"name": "voicemail", "kind": "voicemail", "text": "Leave a message.", "max_length": 60},
        {"name": "dial", "kind": "dial", "dial_number": "+81355550000", "timeout": 20},
        {"name": "goto", "kind": "goto", "goto_flow": "Other"},
        {
            "name": "hours",
            "kind": "hours",
            "schedule": "Office",
            "open_step": "say",
            "closed_step": "bye",
        },
        {"name": "bye", "kind": "hangup", "text": "Goodbye."},
    ]
    flows_import(
        document={
            "format": FORMAT,
            "schedules": [
                {
                    "name": "Office",
                    "time_zone": "Asia/Tokyo",
                    "ranges": [
                        {"weekday": day, "opens": "00:00", "closes": "23:59"} for day in range(7)
                    ],
                    "holidays": [],
                }
            ],
            "flows": [
                {
                    "name": "Other",
                    "language": "en-US",
                    "voice": "",
                    "start_step": "hello",
                    "steps": [{"name": "hello", "kind": "say", "text": "Other flow."}],
                },
                {
                    "name": "Everything",
                    "language": "ja-JP",
                    "voice": "Polly.Mizuki",
                    "start_step": "menu",
                    "steps": steps,
                },
            ],
            "numbers": [{"number": NUMBER, "name": "all", "flow": "Everything", "twilio_sid": ""}],
        }
    )


@pytest.fixture
def world(db, agent_user, django_user_model, settings):
    settings.TWILIO_CALLER_ID = "+815012345678"
    queue = Queue.objects.create(slug="support", name="Support", record_answered_calls=True)
    QueueMessages.objects.create(
        queue=queue,
        language="ja-JP",
        position_message="{position}番目",
        connect_message="おつなぎします。",
        queue_full_message="混み合っております。",
        recording_notice="録音します。",
    )
    _flows()
    agent = Agent.objects.create(user=agent_user, identity="agt")
    QueueMembership.objects.create(agent=agent, queue=queue)
    other = django_user_model.objects.create_user(username="agent2")
    other.groups.add(Group.objects.get(name=AGENTS))
    Agent.objects.create(user=other, identity="agent2")
    from agents.models import DialPrefix

    DialPrefix.objects.get_or_create(prefix="+81")


def check_document(root, context):
    """docs/twilio.md §3 rules for one document requested in ``context``."""
    tags = [child.tag for child in root]
    assert set(tags) <= VERBS, tags
    if context == "queue-url":
        assert set(tags) <= QUEUE_URL_VERBS, tags
    if context == "wait":
        assert set(tags) <= WAIT_VERBS, tags
    else:
        assert "Leave" not in tags, tags
    if "Reject" in tags:
        assert tags.index("Reject") == 0
    for terminal in ("Hangup", "Redirect", "Reject"):
        if terminal in tags:
            assert tags.index(terminal) == len(tags) - 1, f"verbs after <{terminal}>: {tags}"
    for gather in root.iter("Gather"):
        assert {child.tag for child in gather} <= GATHER_CHILDREN
    for dial in root.iter("Dial"):
        nouns = [child.tag for child in dial]
        assert nouns and set(nouns) <= DIAL_NOUNS, nouns
    for enqueue in root.iter("Enqueue"):
        assert 0 < len(enqueue.text.strip()) <= 64
    for say in root.iter("Say"):
        assert (say.text or "").strip()
    for element in root.iter():
        for name in ("action", "url", "waitUrl", "statusCallback"):
            if element.get(name) is not None:
                assert urlsplit(element.get(name)).scheme in ("http", "https"), element.attrib
        # Every webhook refuses GET: no document may ask Twilio for one.
        for name in ("method", "waitUrlMethod", "statusCallbackMethod"):
            assert element.get(name, "POST") == "POST", element.attrib
        if element.tag in ("Redirect", "Play") and element.text:
            assert urlsplit(element.text).scheme in ("http", "https"), element.text


def follow_ups(root, context):
    """(url, context, field variants) Twilio would request after this document."""
    found = []
    for element in root.iter():
        tag = element.tag
        if tag == "Gather" and element.get("action"):
            found.append((element.get("action"), "gather", [{"Digits": d} for d in "123456789"]))
        elif tag == "Redirect":
            found.append((element.text, context if context == "wait" else "plain", [{}]))
        elif tag == "Record":
            found.append(
                (
                    element.get("action"),
                    "record",
                    [
                        {
                            "RecordingUrl": "https://api.twilio.com/rec/RE1",
                            "RecordingSid": "RE" + "1" * 32,
                            "RecordingDuration": "12",
                            "Digits": "hangup",
                        },
                        {"RecordingUrl": "https://api.twilio.com/rec/RE2", "Digits": "#"},
                    ],
                )
            )
        elif tag == "Enqueue":
            wait = {"QueueSid": QUEUE_SID, "CurrentQueueSize": "1", "MaxQueueSize": "100"}
            found.append(
                (
                    element.get("waitUrl"),
                    "wait",
                    [{**wait, "QueuePosition": "1", "QueueTime": t} for t in ("0", "45", "9999")],
                )
            )
            found.append(
                (
                    element.get("action"),
                    "enqueue-action",
                    [
                        {"QueueResult": r, "QueueSid": QUEUE_SID, "QueueTime": "30"}
                        if r != "queue-full"
                        else {"QueueResult": r}
                        for r in QUEUE_RESULTS
                    ],
                )
            )
        elif tag == "Dial":
            found.append(
                (
                    element.get("action"),
                    "dial-action",
                    [
                        {
                            "DialCallStatus": status,
                            "DialCallSid": "CA" + "d" * 32,
                            "DialCallDuration": "61",
                            "DialBridged": "true",
                            "QueueSid": QUEUE_SID,
                            "QueueTime": "30",
                        }
                        for status in DIAL_STATUSES
                    ],
                )
            )
            for noun in element:
                if noun.tag in ("Number", "Client"):
                    # "every call the app creates" reports to the status callback (docs/api.md §1)
                    assert noun.get("statusCallback") == "http://testserver/twilio/voice/status"
                    found.append(
                        (
                            noun.get("statusCallback"),
                            "status",
                            [{"CallStatus": "completed", "CallDuration": "61",
                              "SequenceNumber": "0", "ParentCallSid": "CA" + "e" * 32,
                              "Direction": "outbound-dial"}],
                        )
                    )  # fmt: skip
                if noun.tag == "Queue" and noun.get("url"):
                    found.append(
                        (
                            noun.get("url"),
                            "queue-url",
                            [
                                {
                                    "QueueSid": QUEUE_SID,
                                    "QueueTime": "30",
                                    "DequeingCallSid": "CA" + "a" * 32,
                                }
                            ],
                        )
                    )
    return [(url, ctx, variants) for url, ctx, variants in found if url]


def post(twilio, url, fields):
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "testserver"), url
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    signature = twilio.validator.compute_signature(url, fields)
    return twilio.client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature)


def walk(twilio, entries, limit=400):
    """Request every (URL, context, fields) reachable from ``entries`` once, each with a new
    CallSid, and check every document."""
    seen, pending = set(), [(url, context, {}, fields) for url, context, fields in entries]
    while pending:
        url, context, variant, base = pending.pop(0)
        key = (url, context, tuple(sorted(variant.items())))
        if key in seen:
            continue
        seen.add(key)
        assert len(seen) < limit, "the walk does not end"
        # The same caller (From, To, Direction...) on a new leg each time: every path from
        # a clean state.
        fields = {**call_fields(), **base, "CallSid": next(_sids), **variant}
        response = post(twilio, url, fields)
        if context == "status":
            assert (response.status_code, response.content) == (204, b"")
            continue
        root = twiml(response)
        check_document(root, context)
        for next_url, next_context, variants in follow_ups(root, context):
            pending.extend((next_url, next_context, v, base) for v in variants)
    return seen


def test_every_document_of_a_flow_with_every_step_kind_is_valid_twiml(twilio, world):
    seen = walk(
        twilio,
        [
            (
                "http://testserver/twilio/voice/incoming",
                "plain",
                {"To": NUMBER},
            )
        ],
    )

    paths = {urlsplit(url).path.rsplit("/", 1)[-1] for url, *_ in seen}
    assert {
        "incoming", "gather", "no-input", "queue-exit", "wait", "voicemail",
        "dial-action", "start",
    } <= paths  # fmt: skip


@pytest.mark.parametrize("to", ["queue:support", "+81312345678", "client:agent2", "queue:nope"])
def test_every_document_of_a_softphone_call_is_valid_twiml(twilio, world, to):
    seen = walk(
        twilio,
        [
            (
                "http://testserver/twilio/agent/outgoing",
                "plain",
                softphone_fields("agt", to=to),
            )
        ],
    )

    if to != "queue:nope":
        assert any(context == "dial-action" for _, context, *_ in seen)
    if to.startswith(("+", "client:")):
        assert any(context == "status" for _, context, *_ in seen)


def test_the_demo_flow_documents_are_valid_twiml(twilio, demo):
    walk(
        twilio,
        [
            (
                "http://testserver/twilio/voice/incoming",
                "plain",
                {"To": "+815012345678"},
            )
        ],
    )


def test_a_failing_connect_url_still_answers_a_valid_queue_url_document(twilio, db):
    from telephony.models import WebhookEvent

    fields = {
        **call_fields(CallStatus="in-progress"),
        "QueueSid": QUEUE_SID,
        "QueueTime": "12",
        "DequeingCallSid": "CA" + "a" * 32,
    }
    root = twiml(twilio.post("/twilio/queues/no-such-queue/connect", fields))

    check_document(root, "queue-url")
    assert WebhookEvent.objects.get().outcome == "failed"
