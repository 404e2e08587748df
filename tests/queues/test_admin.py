"""The queue admin: live figures, Twilio sync in the same transaction, read-only visits."""

import pytest
from django.utils import timezone

from emulator import Emulator
from queues.models import Queue, QueueMessages, QueueResult, QueueVisit
from telephony.client import set_http_client
from telephony.models import Call

ADD = "/admin/queues/queue/add/"


@pytest.fixture
def api():
    rest = Emulator().rest_http_client()
    set_http_client(rest)
    yield rest
    set_http_client(None)


def at_twilio(api, sid):
    """The queue as the emulated Twilio account holds it (None: no such queue there)."""
    return api.emulator.queue_by_sid(sid)


def form_data(**overrides):
    data = {
        "name": "Billing",
        "slug": "billing",
        "max_size": "100",
        "announce_every_seconds": "30",
        "announce_pause_seconds": "3",
        "max_wait_seconds": "",
        "hold_music_url": "",
        "service_level_seconds": "20",
        "short_abandon_seconds": "5",
        "service_level_target": "80",
        "longest_wait_alert_seconds": "120",
        "wrap_up_seconds": "0",
        "routing_mode": "push",
        "ring_timeout_seconds": "15",
        "priority": "0",
        "missed_ready_after_seconds": "",
        "callback_after_seconds": "",
        "callback_estimated_wait_minutes": "",
        "callback_retry_seconds": "300",
        "callback_max_attempts": "3",
        "messages-TOTAL_FORMS": "1",
        "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "1",
        "messages-MAX_NUM_FORMS": "1000",
        "messages-0-language": "ja-JP",
        "messages-0-voice": "",
        "messages-0-order": "1",
        "messages-0-position_message": "現在{position}番目です。",
        "messages-0-position_with_wait_message": "",
        "messages-0-connect_message": "おつなぎします。",
        "messages-0-queue_full_message": "",
        "messages-0-recording_notice": "",
    }
    data.update(overrides)
    return data


def change_data(queue, **overrides):
    message = queue.messages.get()
    data = form_data(**{"name": queue.name, "slug": queue.slug, "max_size": str(queue.max_size)})
    data.update(
        {
            "messages-INITIAL_FORMS": "1",
            "messages-0-id": str(message.pk),
            "messages-0-queue": str(queue.pk),
        }
    )
    data.update(overrides)
    return data


def test_adding_a_queue_creates_it_at_twilio(client, supervisor, api):
    client.force_login(supervisor)
    response = client.post(ADD, form_data())
    assert response.status_code == 302
    queue = Queue.objects.get(slug="billing")
    assert queue.is_synced
    assert at_twilio(api, queue.twilio_sid).name == "billing"
    assert at_twilio(api, queue.twilio_sid).max_size == 100
    assert queue.messages.get().position_message == "現在{position}番目です。"


def test_a_twilio_error_rolls_the_new_queue_back_and_shows_it(client, supervisor, api):
    api.fail_with = (400, 22003, "Queue friendly_name already exists")
    client.force_login(supervisor)
    response = client.post(ADD, form_data())
    assert response.status_code == 200
    assert "Queue friendly_name already exists" in response.content.decode()
    assert response.context["adminform"].form.non_field_errors()
    assert not Queue.objects.exists()
    assert not QueueMessages.objects.exists()


def test_renaming_renames_at_twilio(client, supervisor, api, queue):
    from queues.services import queue_save

    queue_save(queue=queue)
    client.force_login(supervisor)
    response = client.post(
        f"/admin/queues/queue/{queue.pk}/change/",
        change_data(queue, slug="support-jp", max_size="200"),
    )
    assert response.status_code == 302
    assert (
        at_twilio(api, queue.twilio_sid).name,
        at_twilio(api, queue.twilio_sid).max_size,
    ) == ("support-jp", 200)


def test_a_failed_rename_keeps_the_old_name(client, supervisor, api, queue):
    from queues.services import queue_save

    queue_save(queue=queue)
    api.fail_with = (400, 20001, "Invalid friendly name")
    client.force_login(supervisor)
    response = client.post(
        f"/admin/queues/queue/{queue.pk}/change/", change_data(queue, slug="support-jp")
    )
    assert response.status_code == 200
    assert "Invalid friendly name" in response.content.decode()
    queue.refresh_from_db()
    assert queue.slug == "support"
    assert at_twilio(api, queue.twilio_sid).name == "support"


def test_deleting_deletes_at_twilio(client, supervisor, api, queue):
    from queues.services import queue_save

    queue_save(queue=queue)
    sid = queue.twilio_sid
    client.force_login(supervisor)
    response = client.post(f"/admin/queues/queue/{queue.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Queue.objects.exists()
    assert at_twilio(api, sid) is None


def test_a_failed_delete_keeps_the_queue(client, supervisor, api, queue):
    from queues.services import queue_save

    queue_save(queue=queue)
    api.fail_with = (400, 20009, "Cannot delete a queue with members")
    client.force_login(supervisor)
    response = client.post(f"/admin/queues/queue/{queue.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Cannot delete a queue with members" in response.content.decode()
    assert Queue.objects.filter(pk=queue.pk).exists()
    assert at_twilio(api, queue.twilio_sid).name == "support"


def test_without_credentials_the_queue_is_saved_not_synced(client, supervisor, api, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    client.force_login(supervisor)
    response = client.post(ADD, form_data(), follow=True)
    queue = Queue.objects.get(slug="billing")
    assert not queue.is_synced
    assert api.requests == []
    assert "not synced" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "has space"),
        ("slug", "x" * 65),
        ("max_size", "0"),
        ("max_size", "5001"),
        ("messages-0-position_message", "{place}番目"),
        ("messages-0-position_message", "{oops"),
    ],
)
def test_it_rejects_invalid_settings(client, supervisor, api, field, value):
    client.force_login(supervisor)
    response = client.post(ADD, form_data(**{field: value}))
    assert response.status_code == 200
    assert not Queue.objects.exists()
    assert api.requests == []


def _visit(queue, sid, result, *, answered=False, entered=None):
    now = timezone.now()
    call = Call.objects.create(
        sid=sid, from_number="+819011112222", started_at=now, status="in-progress"
    )
    return QueueVisit.objects.create(
        queue=queue,
        call=call,
        entered_at=entered or now,
        result=result,
        answered_at=now if answered else None,
        wait_seconds=5,
    )


def test_the_list_shows_live_and_todays_figures_in_one_query(
    client, supervisor, queue, django_assert_num_queries
):
    _visit(queue, "CA" + "1" * 32, QueueResult.WAITING)
    _visit(queue, "CA" + "2" * 32, QueueResult.BRIDGED, answered=True)
    _visit(queue, "CA" + "3" * 32, QueueResult.HANGUP)
    _visit(queue, "CA" + "4" * 32, QueueResult.QUEUE_FULL)
    _visit(
        queue,
        "CA" + "5" * 32,
        QueueResult.HANGUP,
        entered=timezone.now() - timezone.timedelta(days=2),
    )
    client.force_login(supervisor)
    # session, user, user permissions, group permissions, count, full count, the page with
    # its figures (one query, no query per row), the user's roles (navigation)
    with django_assert_num_queries(8):
        response = client.get("/admin/queues/queue/")
    row = response.context["cl"].result_list[0]
    assert (row.waiting, row.offered_today, row.answered_today, row.abandoned_today) == (1, 3, 1, 1)
    assert "not synced" in response.content.decode()


def test_visits_are_searchable_by_call_and_caller_and_read_only(client, supervisor, queue):
    visit = _visit(queue, "CA" + "7" * 32, QueueResult.HANGUP)
    client.force_login(supervisor)
    response = client.get("/admin/queues/queuevisit/", {"q": "CA" + "7" * 32})
    assert list(response.context["cl"].result_list) == [visit]
    response = client.get("/admin/queues/queuevisit/", {"q": "+819011112222"})
    assert list(response.context["cl"].result_list) == [visit]
    response = client.get("/admin/queues/queuevisit/", {"result__exact": "bridged"})
    assert list(response.context["cl"].result_list) == []
    assert client.get(f"/admin/queues/queuevisit/{visit.pk}/change/").status_code == 200
    response = client.post(f"/admin/queues/queuevisit/{visit.pk}/change/", {"result": "bridged"})
    assert response.status_code == 403
    assert client.get("/admin/queues/queuevisit/add/").status_code == 403


@pytest.mark.parametrize("persona", ["analyst", "agent_user", "outsider"])
def test_other_personas_cannot_open_the_queue_admin(client, persona, request, queue):
    client.force_login(request.getfixturevalue(persona))
    for path in ("/admin/queues/queue/", ADD, "/admin/queues/queuevisit/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_changing_only_the_wording_does_not_call_twilio(client, supervisor, api, queue):
    from queues.services import queue_save

    queue_save(queue=queue)
    api.requests.clear()
    client.force_login(supervisor)
    response = client.post(
        f"/admin/queues/queue/{queue.pk}/change/",
        change_data(queue, **{"messages-0-connect_message": "少々お待ちください。"}),
    )
    assert response.status_code == 302
    assert api.requests == []
    assert queue.messages.get().connect_message == "少々お待ちください。"


def test_the_supervisor_opens_the_add_and_change_forms(client, supervisor, queue):
    client.force_login(supervisor)
    assert client.get(ADD).status_code == 200
    response = client.get(f"/admin/queues/queue/{queue.pk}/change/")
    assert response.status_code == 200
    assert "お待たせしております。現在、{position}番目にお待ちです。" in response.content.decode()
