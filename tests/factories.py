"""Helpers shared by the whole suite: reading TwiML, building the Twilio emulator, and queue
visits played through the real services. Fixtures live in tests/conftest.py; these are plain
functions, imported where they are needed."""

import io
import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from agents.services import agent_choose_status, agent_set_status
from queues import services
from queues.models import Queue, QueueResult
from telephony.services import call_upsert_from_webhook
from tests.conftest import ACCOUNT_SID, call_fields

DEMO_NUMBER = "+815012345678"
CALLER_NUMBER = "+819011112222"
CALLER_SID = "CA" + "c" * 32
AGENT_SID = "CA" + "a" * 32
QUEUE_SID = "QU" + "0" * 32
# The emulator's clock starts on a Monday at midnight UTC unless a test says otherwise.
# What a webhook's raw event costs on its own: on PostgreSQL the leg's upsert statement stores
# it (a status callback's CallStatusEvent too); SQLite has no data-modifying WITH, so there each
# is one INSERT more.
OWN_INSERT = 0 if connection.vendor == "postgresql" else 1

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


ROOT = Path(__file__).resolve().parent.parent


def manage_py(*args, env, timeout=300) -> subprocess.CompletedProcess:
    """`python manage.py *args` as an operator runs it, in a process of its own with ``env``
    as its whole environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Quiet:
    """A management command's stand-in for the demo seeders: their output is not wanted."""

    stdout = io.StringIO()


# --- TwiML ---------------------------------------------------------------------------------------


def twiml(response) -> ElementTree.Element:
    """The TwiML document of a 200 answer, checked for Content-Type and root element."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return root


def verbs(root) -> list[str]:
    """The names of the verbs of a TwiML document, in order."""
    return [child.tag for child in root]


def verb_details(root) -> list[tuple[str, str, dict]]:
    """Each verb of a TwiML document as (name, text, attributes)."""
    return [(child.tag, (child.text or "").strip(), dict(child.attrib)) for child in root]


# --- Signed requests as Twilio sends them ------------------------------------------------------


def incoming(twilio, *, to=DEMO_NUMBER, call_sid=CALLER_SID, **extra):
    """A caller rings ``to``: the number's Voice URL, signed."""
    return twilio.post(
        "/twilio/voice/incoming", call_fields(call_sid, To=to, From=CALLER_NUMBER, **extra)
    )


def softphone_fields(identity="agent1", *, to, call_sid=AGENT_SID, **custom):
    """What @twilio/voice-sdk's device.connect({params}) makes Twilio send to the TwiML App."""
    return {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "ApplicationSid": "AP" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "Caller": f"client:{identity}",
        "From": f"client:{identity}",
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **custom,
    }


def queue_url(name, queue):
    """One of a queue's webhook URLs: wait, exit, connect, dial-action."""
    from django.urls import reverse

    return reverse(f"queues:{name}", kwargs={"slug": queue.slug})


def post_wait(twilio, queue, *, queue_time=0, position=1, call_sid=CALLER_SID, **extra):
    """The Enqueue waitUrl request for a caller at ``position`` after ``queue_time`` s."""
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        QueuePosition=str(position),
        AvgQueueTime="0",
        CurrentQueueSize=str(position),
        MaxQueueSize="100",
        **extra,
    )
    return twilio.post(queue_url("wait", queue), fields)


def post_exit(twilio, queue, *, result, queue_time=None, call_sid=CALLER_SID):
    """The Enqueue action: the caller left the queue with QueueResult ``result``."""
    fields = call_fields(call_sid, CallStatus="in-progress", QueueResult=result)
    if queue_time is not None:
        fields.update(QueueSid=QUEUE_SID, QueueTime=str(queue_time))
    return twilio.post(queue_url("exit", queue), fields)


def post_connect(twilio, queue, *, queue_time, call_sid=CALLER_SID, agent_leg=AGENT_SID, **extra):
    """The connect URL of <Dial><Queue>: ``agent_leg`` took the caller."""
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        DequeingCallSid=agent_leg,
        **extra,
    )
    return twilio.post(queue_url("connect", queue), fields)


def post_dial_action(
    twilio,
    queue,
    *,
    duration,
    agent_leg=AGENT_SID,
    caller=CALLER_SID,
    status="completed",
    identity="agent1",
):
    """The agent leg's <Dial> action after talking ``duration`` s (None: no duration sent)."""
    fields = call_fields(
        agent_leg,
        From=f"client:{identity}",
        To="queue:support",
        CallStatus="in-progress",
        DialCallStatus=status,
        DialCallSid=caller,
        QueueSid=QUEUE_SID,
    )
    if duration is not None:
        fields["DialCallDuration"] = str(duration)
    return twilio.post(queue_url("dial-action", queue), fields)


# --- Flows -------------------------------------------------------------------------------------


def import_flow(
    steps, *, name="Test flow", start=None, language="en-US", voice="", number=None, schedules=()
):
    """One flow of ``steps`` (and ``number`` bound to it), through the same import the flow
    files and the demo use."""
    from ivr.flowfile import FORMAT, flows_import
    from ivr.models import Flow

    document = {
        "format": FORMAT,
        "schedules": list(schedules),
        "flows": [
            {
                "name": name,
                "language": language,
                "voice": voice,
                "start_step": start or steps[0]["name"],
                "steps": steps,
            }
        ],
        "numbers": [{"number": number, "name": "test", "flow": name, "twilio_sid": ""}]
        if number
        else [],
    }
    flows_import(document=document)
    return Flow.objects.get(name=name)


def office_hours_flow(*, number, open_text, closed_text, holidays=()):
    """A flow that says ``open_text`` on Mondays 09:00-18:00 in Tokyo (the schedule "Office",
    but on ``holidays``) and ``closed_text`` otherwise."""
    return import_flow(
        [
            {
                "name": "hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "open",
                "closed_step": "closed",
            },
            {"name": "open", "kind": "say", "text": open_text},
            {"name": "closed", "kind": "say", "text": closed_text},
        ],
        number=number,
        schedules=[
            {
                "name": "Office",
                "time_zone": "Asia/Tokyo",
                "ranges": [{"weekday": 0, "opens": "09:00", "closes": "18:00"}],
                "holidays": list(holidays),
            }
        ],
    )


# --- The Twilio emulator -----------------------------------------------------------------


def emulator(
    *,
    number=DEMO_NUMBER,
    voice_url="/twilio/voice/incoming",
    status_callback="/twilio/voice/status",
    fallback=True,
    agent_url="/twilio/agent/outgoing",
    agent_status_callback="/twilio/voice/status",
    start=START,
    transport=None,
    base_url="http://testserver",
):
    """The emulator with the test account's credentials, ``number`` pointed at ``voice_url``
    (no number when it is None) and the softphones' TwiML App at ``agent_url`` (none when it is
    None). The defaults are the real webhooks, as the Twilio console of a deployment has them."""
    from emulator import DjangoTransport, Emulator

    emu = Emulator(
        transport=transport or DjangoTransport(),
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        base_url=base_url,
        start=start,
    )
    if voice_url:
        emu.add_number(
            number,
            voice_url=voice_url,
            status_callback=status_callback,
            fallback_url="/twilio/voice/fallback" if fallback else None,
        )
    if agent_url:
        emu.configure_client_app(voice_url=agent_url, status_callback=agent_status_callback)
    return emu


# --- Queue visits through the real services ----------------------------------------------------

_sids = itertools.count(1)


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def tokyo(*args) -> datetime:
    return local("Asia/Tokyo", *args)


def new_sid() -> str:
    return f"CA{next(_sids):032x}"


def leg(sid: str, *, now: datetime, status: str = "in-progress", **fields):
    """A call leg as Twilio's webhook about it records it."""
    return call_upsert_from_webhook(params=call_fields(sid, CallStatus=status, **fields), now=now)


def make_agent(django_user_model, identity: str, *queues) -> Agent:
    user = django_user_model.objects.create_user(username=identity, password="pw")
    agent = Agent.objects.create(user=user, identity=identity)
    for queue in queues:
        QueueMembership.objects.create(agent=agent, queue=queue)
    return agent


class Visit:
    """One caller's stay in a queue, played as Twilio's callbacks would play it: call legs
    through telephony.services, the visit through queues.services, presence through the
    agents app's receivers. Each step is dated by the `now` Twilio's request would carry;
    nothing is set on a visit by hand."""

    def __init__(self, queue: Queue, entered_at: datetime, *, number=CALLER_NUMBER):
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

    def call_ended(self, status: str = "completed", *, after: int = 0):
        """The caller's leg reaches a final status ``after`` s in (the status callback)."""
        self.call = leg(self.sid, now=self.at(after), status=status)
        return self

    # Whole stories
    def answered(self, wait: int, talk: int, *, agent: str = "agent1", wrap_up: int | None = None):
        """Taken after ``wait`` s, talked ``talk`` s; with ``wrap_up``, the agent (made if it
        does not exist) then spends that long in the queue's automatic wrap-up and presses
        Ready, as the softphone does."""
        if wrap_up is not None:
            return self._answered_with_wrap_up(wait, talk, agent=agent, wrap_up=wrap_up)
        self.connect(wait, agent=agent)
        self.exit(QueueResult.BRIDGED, wait + talk)
        return self.talk(talk, at=self.at(wait + talk), agent=agent)

    def _answered_with_wrap_up(self, wait, talk, *, agent, wrap_up):
        presence = Agent.objects.filter(identity=agent).first()
        if presence is None:
            user = get_user_model().objects.create_user(username=agent, password="pw")
            presence = Agent.objects.create(user=user, identity=agent)
        # Presence follows the app's own clock (the receivers date it with timezone.now()).
        agent_set_status(agent=presence, status=AgentStatus.AVAILABLE, now=timezone.now())
        queue_wrap_up = self.queue.wrap_up_seconds
        if queue_wrap_up <= wrap_up:
            self.queue.wrap_up_seconds = wrap_up + 1
            self.queue.save(update_fields=["wrap_up_seconds"])
        self.answered(wait, talk, agent=agent)
        presence.refresh_from_db()
        assert presence.status == AgentStatus.WRAP_UP
        agent_choose_status(
            agent=presence,
            status=AgentStatus.AVAILABLE,
            now=presence.status_changed_at + timedelta(seconds=wrap_up),
        )
        if self.queue.wrap_up_seconds != queue_wrap_up:
            self.queue.wrap_up_seconds = queue_wrap_up
            self.queue.save(update_fields=["wrap_up_seconds"])
        return self

    def abandoned(self, wait: int):
        return self.exit(QueueResult.HANGUP, wait)

    def refresh(self):
        self.visit.refresh_from_db()
        return self.visit


def make_visit(
    queue,
    entered_at,
    result,
    wait=None,
    *,
    answered=None,
    agent="",
    talk=None,
    wrap_up=None,
    number=CALLER_NUMBER,
    call_status=None,
):
    """A visit told by its outcome, played through the real services with :class:`Visit`.

    ``result`` is the visit's QueueResult after ``wait`` seconds; answered=True means the
    connect URL was reached then (by ``agent``), and ``talk`` the agent's DialCallDuration
    (none yet: still talking). ``call_status`` is a final status the caller's leg reached."""
    visit = Visit(queue, entered_at, number=number)
    if answered:
        if talk is not None and result == QueueResult.BRIDGED:
            visit.answered(wait, talk, agent=agent or "agent1", wrap_up=wrap_up)
        else:
            visit.connect(wait, agent=agent or "agent1")
            visit.exit(result, wait)
            if talk is not None:
                visit.talk(talk, at=visit.at(wait + talk), agent=agent or "agent1")
    elif result != QueueResult.WAITING:
        visit.exit(result, wait)
    if call_status is not None:
        visit.call_ended(call_status, after=wait or 0)
    return visit.refresh()


def autocommit_queries(on_sqlite: int) -> int:
    """What a webhook in autocommit (``atomic=False``) sends the database, given what it sends on
    SQLite: on PostgreSQL its raw event is stored by the leg's upsert statement, one less
    (docs/architecture.md §7)."""
    from django.db import connection

    return on_sqlite - 1 if connection.vendor == "postgresql" else on_sqlite


def kept_queries(on_sqlite: int) -> int:
    """What a flow step whose answer this process keeps for the current configuration, or a
    wait-loop pass whose queue it keeps, sends the database, given what it sends on SQLite: on
    PostgreSQL one statement, the leg's upsert with the raw event and the path entries (or the
    visit read) (docs/architecture.md §7, *Answers kept*)."""
    from django.db import connection

    return 1 if connection.vendor == "postgresql" else on_sqlite
