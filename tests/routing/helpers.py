"""Push routing under test: a Twilio REST stand-in (an HttpClient that answers like Twilio and
keeps what it was asked), agents ready to be rung, and helpers that play Twilio's webhooks."""

import itertools
import json
import logging
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django.utils import timezone
from twilio.http import HttpClient
from twilio.http.response import Response

from agents.models import Agent, AgentStatus, QueueMembership
from agents.services import agent_choose_status, agent_report_device
from routing.worker import run_pending_tasks
from tests.conftest import ACCOUNT_SID, call_fields
from tests.factories import QUEUE_SID, post_wait, queue_url

_sids = itertools.count(1)


class TwilioRest(HttpClient):
    """Twilio's REST API as far as routing uses it: calls.create answers a new CallSid, updates
    answer the resource; every request is kept in ``requests`` as (method, path, data)."""

    def __init__(self):
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.requests: list[tuple[str, str, dict]] = []
        self.refuse_for_rate = 0  # answer this many next requests with 429 (error 20429)

    def request(self, method, uri, params=None, data=None, **kwargs):
        path = urlsplit(uri).path
        flat = {key: value for key, value in (data or {}).items()}
        self.requests.append((method, path, flat))
        if self.refuse_for_rate:
            self.refuse_for_rate -= 1
            body = {"code": 20429, "message": "Too Many Requests", "status": 429}
            return Response(429, json.dumps(body))
        if method == "POST" and path.endswith("/Calls.json"):
            sid = f"CA{'f' * 16}{next(_sids):016x}"  # apart from tests.factories.new_sid
            return Response(201, json.dumps(_call(sid, flat)))
        if "/Calls/" in path:
            sid = path.rsplit("/", 1)[1].removesuffix(".json")
            return Response(200, json.dumps(_call(sid, flat)))
        if "/Members/" in path:
            sid = path.rsplit("/", 1)[1].removesuffix(".json")
            return Response(
                200,
                json.dumps({"call_sid": sid, "queue_sid": QUEUE_SID, "position": 1}),
            )
        return Response(200, "{}")

    # What routing asked for
    def rings(self) -> list[dict]:
        return [data for method, path, data in self.requests if path.endswith("/Calls.json")]

    def cancels(self) -> list[str]:
        return [
            path.rsplit("/", 1)[1].removesuffix(".json")
            for method, path, data in self.requests
            if "/Calls/CA" in path and data.get("Status") == "canceled"
        ]

    def member_updates(self) -> list[tuple[str, str]]:
        return [
            (path.rsplit("/", 1)[1].removesuffix(".json"), data.get("Url", ""))
            for method, path, data in self.requests
            if "/Members/" in path
        ]


def _call(sid: str, data: dict) -> dict:
    return {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": data.get("To", ""),
        "from": data.get("From", ""),
        "status": "queued",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
    }


def ready_agent(django_user_model, identity, *queues, priority=1, now=None) -> Agent:
    """An agent in ``queues`` who chose *available* with the softphone registered."""
    from django.contrib.auth.models import Group

    from agents.roles import AGENTS

    user = django_user_model.objects.create_user(username=identity, password="pw")
    user.groups.add(Group.objects.get(name=AGENTS))
    agent = Agent.objects.create(user=user, identity=identity)
    for queue in queues:
        QueueMembership.objects.create(agent=agent, queue=queue, priority=priority)
    agent_report_device(agent=agent, registered=True, now=timezone.now())
    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=now or timezone.now())
    return agent


def caller_waits(twilio, queue, call_sid, *, number="+819011112222", queue_time=0, **extra):
    """A caller's first wait-URL request: the visit opens (and routing is asked to act)."""
    response = post_wait(twilio, queue, call_sid=call_sid, queue_time=queue_time, From=number)
    assert response.status_code == 200, response.content
    return response


def offer_url(name, offer):
    return reverse(f"routing:offer-{name}", kwargs={"offer_id": offer.pk})


def agent_leg_fields(offer, status, **extra):
    return call_fields(
        offer.agent_call_sid,
        From=offer.visit.call.from_number,
        To=f"client:{offer.agent.identity}",
        CallStatus=status,
        Direction="outbound-api",
        **extra,
    )


def agent_answers(twilio, offer):
    """Twilio requests the ring's url on the agent's leg: the agent answered."""
    return twilio.post(offer_url("answer", offer), agent_leg_fields(offer, "in-progress"))


def ring_ends(twilio, offer, status, sequence=3):
    """The agent leg's status callback: the ring ended (no-answer, busy, canceled…)."""
    return twilio.post(
        offer_url("status", offer), agent_leg_fields(offer, status, SequenceNumber=str(sequence))
    )


def caller_redirected(twilio, queue, call_sid, *, queue_time, flow_exit_url=None):
    """The caller's Enqueue action after members(...).update(url): QueueResult=redirected."""
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueResult="redirected",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
    )
    return twilio.post(flow_exit_url or queue_url("exit", queue), fields)


def caller_hangs_up(twilio, queue, call_sid, *, queue_time):
    fields = call_fields(
        call_sid,
        CallStatus="completed",
        QueueResult="hangup",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
    )
    return twilio.post(queue_url("exit", queue), fields)


def work():
    """Run the background tasks enqueued so far, and those they enqueue, as the worker does."""
    return run_pending_tasks()


def query_of(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
