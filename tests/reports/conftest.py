"""Queue visits written only through the real services (call legs through
telephony.services, visits through queues.services, presence through agents.services), each
dated by the `now` Twilio's request would carry. Nothing is set on a visit by hand."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agents.models import Agent, QueueMembership
from queues import services
from queues.models import Queue
from telephony.services import call_upsert_from_webhook
from tests.conftest import call_fields

_sids = itertools.count(1)
QUEUE_SID = "QU" + "9" * 32


@pytest.fixture(autouse=True)
def _tokyo(settings):
    settings.TIME_ZONE = "Asia/Tokyo"


@pytest.fixture
def support(db):
    return Queue.objects.create(slug="support", name="Support")


@pytest.fixture
def sales(db):
    # Its own thresholds: 30 s service level, 10 s short abandon.
    return Queue.objects.create(
        slug="sales", name="Sales", service_level_seconds=30, short_abandon_seconds=10
    )


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def tokyo(*args) -> datetime:
    return local("Asia/Tokyo", *args)


def new_sid() -> str:
    return f"CA{next(_sids):032x}"


def leg(sid: str, *, now: datetime, status: str = "in-progress", **fields):
    return call_upsert_from_webhook(params=call_fields(sid, CallStatus=status, **fields), now=now)


class Visit:
    """One caller's stay in a queue, played as Twilio's callbacks would play it."""

    def __init__(self, queue: Queue, entered_at: datetime, *, number="+819011112222"):
        self.queue = queue
        # As the UTC instant Twilio's request carries (arithmetic on a local time drops `fold`).
        self.entered_at = entered_at.astimezone(UTC)
        self.sid = new_sid()
        self.call = leg(self.sid, now=self.entered_at, From=number)
        self.agent_leg = None
        self.visit = services.visit_record_wait(
            queue=queue,
            call=self.call,
            params={"QueueTime": "0", "QueuePosition": "1", "QueueSid": QUEUE_SID},
            now=self.entered_at,
        ).visit

    def at(self, seconds: float) -> datetime:
        return self.entered_at + timedelta(seconds=seconds)

    def wait_request(self, queue_time: int):
        services.visit_record_wait(
            queue=self.queue,
            call=self.call,
            params={"QueueTime": str(queue_time), "QueuePosition": "1", "QueueSid": QUEUE_SID},
            now=self.at(queue_time),
        )
        return self

    def exit(self, result: str, queue_time: int | None):
        params = {"QueueResult": result, "QueueSid": QUEUE_SID}
        if queue_time is not None:
            params["QueueTime"] = str(queue_time)
        services.visit_record_exit(
            queue=self.queue, call=self.call, params=params, now=self.at(queue_time or 0)
        )
        return self

    def connect(self, queue_time: int, *, agent: str = "agent1"):
        """The connect URL of the agent's <Dial><Queue>: the caller was taken."""
        self.agent_leg = leg(
            new_sid(), now=self.at(queue_time), From=f"client:{agent}", To="queue:x"
        )
        services.visit_record_connect(
            queue=self.queue,
            call=self.call,
            params={
                "QueueTime": str(queue_time),
                "DequeingCallSid": self.agent_leg.sid,
                "QueueSid": QUEUE_SID,
            },
            now=self.at(queue_time),
        )
        return self

    def talk(self, seconds: int, *, at: datetime | None = None, agent: str = "agent1"):
        """The agent leg's Dial action with DialCallDuration."""
        if self.agent_leg is None:
            self.agent_leg = leg(new_sid(), now=self.entered_at, From=f"client:{agent}")
        services.visit_record_talk(
            queue=self.queue,
            agent_call=self.agent_leg,
            params={
                "DialCallDuration": str(seconds),
                "DialCallSid": self.sid,
                "DialCallStatus": "completed",
            },
            now=at or self.at(seconds),
        )
        return self

    # Whole stories
    def answered(self, wait: int, talk: int, *, agent: str = "agent1"):
        self.connect(wait, agent=agent)
        self.exit("bridged", wait + talk)
        return self.talk(talk, at=self.at(wait + talk), agent=agent)

    def abandoned(self, wait: int):
        return self.exit("hangup", wait)

    def refresh(self):
        self.visit.refresh_from_db()
        return self.visit


def make_agent(django_user_model, identity: str, *queues) -> Agent:
    user = django_user_model.objects.create_user(username=identity, password="pw")
    agent = Agent.objects.create(user=user, identity=identity)
    for queue in queues:
        QueueMembership.objects.create(agent=agent, queue=queue)
    return agent
