import pytest
from django.utils import timezone

from telephony.models import Call, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    return Call.objects.create(
        sid="CA" + "9" * 32,
        from_number="+819011112222",
        to_number="+815012345678",
        started_at=timezone.now(),
        status="completed",
    )


def test_a_supervisor_finds_a_call_by_number(client, supervisor, call):
    client.force_login(supervisor)

    response = client.get("/admin/telephony/call/", {"q": "+819011112222"})

    assert response.status_code == 200
    assert call.sid.encode() in response.content


def test_calls_cannot_be_added_or_changed(client, supervisor, call):
    client.force_login(supervisor)

    assert client.get("/admin/telephony/call/add/").status_code == 403
    response = client.post(f"/admin/telephony/call/{call.pk}/change/", {"status": "failed"})
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.status == "completed"


def test_failed_webhook_events_can_be_filtered(client, supervisor):
    now = timezone.now()
    for outcome in ("processed", "failed"):
        WebhookEvent.objects.create(
            received_at=now,
            path=f"/{outcome}",
            url="http://x/",
            method="POST",
            outcome=outcome,
            call_sid="CA" + outcome,
        )
    client.force_login(supervisor)

    response = client.get("/admin/telephony/webhookevent/", {"outcome__exact": "failed"})

    assert b"CAfailed" in response.content
    assert b"CAprocessed" not in response.content


def test_the_call_list_runs_without_a_full_count(
    client, supervisor, call, django_assert_max_num_queries
):
    client.force_login(supervisor)

    # session, user, user permissions, group permissions, (PostgreSQL: the planner's row
    # estimate), count, the page, the user's roles (navigation); no DISTINCT or MIN/MAX scans
    with django_assert_max_num_queries(8):
        response = client.get("/admin/telephony/call/")
    assert response.status_code == 200


def test_an_analyst_without_staff_cannot_open_the_admin(client, analyst):
    client.force_login(analyst)

    assert client.get("/admin/telephony/call/").status_code == 302
