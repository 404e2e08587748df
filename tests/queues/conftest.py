"""A queue like the demo's and helpers that post its webhooks as Twilio would."""

import pytest

from queues.models import Queue, QueueMessages
from tests.factories import (
    AGENT_SID,
    CALLER_SID,
    QUEUE_SID,
    post_connect,
    post_dial_action,
    post_exit,
    post_wait,
    twiml,
)
from tests.factories import queue_url as url
from tests.factories import verb_details as verbs

# The signed posts live in tests.factories; still importable from here under these names
# (`verbs` here has always meant (name, text, attributes)).
__all__ = [
    "QUEUE_SID",
    "post_connect",
    "post_dial_action",
    "post_exit",
    "post_wait",
    "twiml",
    "url",
    "verbs",
]
CALLER = CALLER_SID
AGENT_LEG = AGENT_SID
POSITION_JA = "お待たせしております。現在、{position}番目にお待ちです。"


@pytest.fixture
def queue(db):
    queue = Queue.objects.create(
        slug="support", name="サポート", announce_every_seconds=30, max_wait_seconds=600
    )
    QueueMessages.objects.create(
        queue=queue,
        language="ja-JP",
        voice="Polly.Mizuki",
        position_message=POSITION_JA,
        position_with_wait_message="現在、{position}番目です。あと約{minutes}分でおつなぎします。",
        connect_message="オペレータにおつなぎします。",
        queue_full_message="ただいま大変混み合っております。",
        recording_notice="この通話は録音されます。",
    )
    return queue


def agent_leg_call(identity="agent1", sid=AGENT_LEG):
    from django.utils import timezone

    from telephony.models import Call

    return Call.objects.create(
        sid=sid,
        from_number=f"client:{identity}",
        to_number="queue:support",
        direction="inbound",
        status="in-progress",
        started_at=timezone.now(),
    )
