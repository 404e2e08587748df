"""The flow's queue step gives its callers a priority: it rides on the wait URL, lands on the
visit, and routing serves those callers first."""

import pytest

from queues.models import QueueVisit
from routing.models import Offer, OfferOutcome
from tests.conftest import call_fields
from tests.factories import import_flow, new_sid, twiml

from .helpers import ready_agent, work

pytestmark = pytest.mark.django_db

NUMBER = "+815000000001"


def test_a_priority_queue_step_puts_its_callers_first(twilio, rest, support, django_user_model):
    import_flow(
        [{"name": "vip-line", "kind": "queue", "queue": "support", "caller_priority": 7}],
        number=NUMBER,
    )
    enqueue = twiml(twilio.post("/twilio/voice/incoming", call_fields(new_sid(), To=NUMBER)))
    wait_url = enqueue.find("Enqueue").get("waitUrl")
    assert wait_url.endswith("/twilio/queues/support/wait?priority=7")

    from tests.factories import post_wait

    ordinary, urgent = new_sid(), new_sid()
    post_wait(twilio, support, call_sid=ordinary, queue_time=120)
    fields = call_fields(urgent, CallStatus="in-progress", QueueSid="QU" + "0" * 32, QueueTime="1")
    assert twilio.post("/twilio/queues/support/wait?priority=7", fields).status_code == 200
    assert QueueVisit.objects.get(call__sid=urgent).caller_priority == 7

    agent = ready_agent(django_user_model, "agent1", support)
    work()

    offer = Offer.objects.get(agent=agent, outcome=OfferOutcome.OPEN)
    assert offer.visit.call.sid == urgent
