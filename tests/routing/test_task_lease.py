"""Task leases: a task left RUNNING by a worker whose heartbeat stopped (killed, machine lost)
goes back to the queue and another worker runs it; its effect happens once. A live worker's
task is left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from routing.leases import MAX_CLAIMS, tasks_reclaim, worker_heartbeat, worker_heartbeat_end
from routing.models import Bridge, Clock, Offer, OfferOutcome
from routing.services import RING_MARK
from tests.conftest import call_fields
from tests.factories import new_sid

from .helpers import agent_answers, caller_redirected, caller_waits, ready_agent, work
from .test_callbacks import agent_accepts, request_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(support):
    """The demo queue, offering a callback after 60 s (as in test_callbacks.py)."""
    support.callback_after_seconds = 60
    support.callback_retry_seconds = 30
    support.callback_max_attempts = 2
    support.hold_music_url = ""
    support.save()
    return support


LEASE = timedelta(seconds=30)


def left_running(task_path: str, *, worker_id: str, ago: timedelta) -> DBTaskResult:
    """The last run of ``task_path`` as a worker that claimed it ``ago`` and never finished."""
    row = DBTaskResult.objects.filter(task_path=f"routing.tasks.{task_path}").latest("enqueued_at")
    row.status = "RUNNING"
    row.started_at = timezone.now() - ago
    row.worker_ids = [worker_id]
    row.finished_at = None
    row.save()
    return row


def reclaim():
    return tasks_reclaim(now=timezone.now(), lease=LEASE)


def rung(twilio, rest, support, django_user_model) -> Offer:
    ready_agent(django_user_model, "agent1", support)
    caller_waits(twilio, support, new_sid())
    work()
    return Offer.objects.get(outcome=OfferOutcome.OPEN)


def bridged(twilio, rest, support, django_user_model) -> Bridge:
    """An answered offer whose caller has taken the join URL (the caller is in the bridge)."""
    offer = rung(twilio, rest, support, django_user_model)
    agent_answers(twilio, offer)
    work()
    bridge = Bridge.objects.get(offer=offer)
    caller = bridge.visit.call.sid
    caller_redirected(twilio, support, caller, queue_time=3)
    twilio.post(f"/twilio/routing/bridges/{bridge.pk}/join", call_fields(caller))
    work()
    return bridge


def test_a_ring_of_a_dead_worker_is_run_again_by_another_and_rings_once(
    twilio, rest, support, django_user_model
):
    offer = rung(twilio, rest, support, django_user_model)
    worker_heartbeat(worker_id="dead", now=timezone.now() - timedelta(minutes=1))
    row = left_running("ring_offer", worker_id="dead", ago=timedelta(minutes=1))

    assert reclaim() == {"reclaimed": 1, "failed": 0}
    work()

    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    assert len(row.worker_ids) == 2 and row.worker_ids[0] == "dead"
    assert len(rest.rings()) == 1
    assert Offer.objects.get(pk=offer.pk).outcome == OfferOutcome.OPEN
    assert not Clock.objects.filter(name="worker:dead").exists()


def test_a_ring_begun_by_a_dead_worker_is_not_rung_again_and_the_offer_ends_missed(
    twilio, rest, support, django_user_model
):
    offer = rung(twilio, rest, support, django_user_model)
    # The worker died inside calls.create: the ring was begun, its leg never recorded.
    Offer.objects.filter(pk=offer.pk).update(agent_call_sid="", rang_at=None)
    Clock.objects.create(name=f"{RING_MARK}{offer.pk}", at=timezone.now())
    left_running("ring_offer", worker_id="dead", ago=timedelta(minutes=1))

    assert reclaim()["reclaimed"] == 1
    work()

    assert len(rest.rings()) == 1
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.MISSED
    assert not Clock.objects.filter(name__startswith=RING_MARK).exists()


def test_a_running_task_of_a_live_worker_is_not_taken(twilio, rest, support, django_user_model):
    rung(twilio, rest, support, django_user_model)
    worker_heartbeat(worker_id="alive", now=timezone.now() - timedelta(seconds=2))
    row = left_running("ring_offer", worker_id="alive", ago=timedelta(minutes=5))

    assert reclaim() == {"reclaimed": 0, "failed": 0}

    row.refresh_from_db()
    assert row.status == "RUNNING"
    assert Clock.objects.filter(name="worker:alive").exists()


def test_a_task_claimed_just_now_is_not_taken_even_before_a_heartbeat(
    twilio, rest, support, django_user_model
):
    rung(twilio, rest, support, django_user_model)
    row = left_running("ring_offer", worker_id="new", ago=timedelta(seconds=5))

    assert reclaim()["reclaimed"] == 0
    row.refresh_from_db()
    assert row.status == "RUNNING"


def test_a_worker_stopped_on_purpose_leaves_no_heartbeat_and_its_stale_task_is_taken(
    twilio, rest, support, django_user_model
):
    rung(twilio, rest, support, django_user_model)
    worker_heartbeat(worker_id="gone", now=timezone.now())
    worker_heartbeat_end(worker_id="gone")
    row = left_running("ring_offer", worker_id="gone", ago=timedelta(minutes=1))

    assert not Clock.objects.filter(name="worker:gone").exists()
    assert reclaim()["reclaimed"] == 1
    row.refresh_from_db()
    assert row.status == "READY"


def test_a_task_whose_workers_keep_dying_fails_after_the_claims_allowed(
    twilio, rest, support, django_user_model
):
    rung(twilio, rest, support, django_user_model)
    row = left_running("ring_offer", worker_id="w", ago=timedelta(minutes=1))
    row.worker_ids = [f"w{n}" for n in range(MAX_CLAIMS)]
    row.save()

    assert reclaim() == {"reclaimed": 0, "failed": 1}
    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.exception_class_path == "routing.leases.LeaseExpired"


def test_a_bridge_caller_of_a_dead_worker_run_again_moves_the_caller_once(
    twilio, rest, support, django_user_model
):
    bridge = bridged(twilio, rest, support, django_user_model)
    assert len(rest.member_updates()) == 1
    requests = len(rest.requests)
    left_running("bridge_caller", worker_id="dead", ago=timedelta(minutes=1))

    assert reclaim()["reclaimed"] == 1
    work()

    # Neither moved again nor the agent hung up as if the caller had gone.
    assert rest.requests[requests:] == []
    bridge.refresh_from_db()
    assert bridge.ended_at is None


def test_the_reclaim_job_is_scheduled_by_the_worker_once_per_period():
    from routing.worker import schedule_periodic

    now = timezone.now()
    assert "periodic:reclaim-tasks" in schedule_periodic(now=now)
    assert "periodic:reclaim-tasks" not in schedule_periodic(now=now + timedelta(seconds=1))
    assert "periodic:reclaim-tasks" in schedule_periodic(now=now + timedelta(seconds=11))


def dialling(twilio, rest, queue, django_user_model):
    """A callback an agent accepted: the customer has been dialled."""
    request_callback(twilio, queue, new_sid())
    ready_agent(django_user_model, "agent1", queue)
    work()
    agent_accepts(twilio, Offer.objects.get())


def state():
    from routing.models import Callback

    return (
        list(Offer.objects.order_by("pk").values_list("pk", "outcome", "agent_call_sid")),
        list(Bridge.objects.order_by("pk").values_list("pk", "ended_at")),
        list(Callback.objects.order_by("pk").values_list("pk", "status", "customer_call_sid")),
    )


@pytest.mark.parametrize(
    ("task_path", "scene"),
    [
        ("dispatch", rung),
        ("ring_offer", rung),
        ("bridge_caller", bridged),
        ("dial_callback", dialling),
    ],
)
def test_each_task_run_again_after_its_worker_died_has_its_effect_once(
    task_path, scene, twilio, rest, queue, django_user_model
):
    scene(twilio, rest, queue, django_user_model)
    before, asked = state(), len(rest.requests)
    row = left_running(task_path, worker_id="dead", ago=timedelta(minutes=1))

    assert reclaim()["reclaimed"] == 1
    work()

    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    assert rest.requests[asked:] == []
    assert state() == before


def test_a_dial_begun_by_a_dead_worker_is_not_dialled_again_and_the_attempt_fails(
    twilio, rest, queue, django_user_model
):
    from routing.callbacks import DIAL_MARK
    from routing.models import Callback, CallbackStatus

    dialling(twilio, rest, queue, django_user_model)
    callback = Callback.objects.get()
    dials = len(rest.rings())
    # The worker died inside calls.create: the dial was begun, the customer's leg not recorded.
    Callback.objects.filter(pk=callback.pk).update(customer_call_sid="")
    Clock.objects.create(name=f"{DIAL_MARK}{callback.pk}:{callback.attempts}", at=timezone.now())
    left_running("dial_callback", worker_id="dead", ago=timedelta(minutes=1))

    assert reclaim()["reclaimed"] == 1
    work()

    assert len(rest.rings()) == dials
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.REQUESTED  # retried after the queue's delay
    assert callback.last_error == "dial interrupted"
    assert not Clock.objects.filter(name__startswith=DIAL_MARK).exists()
