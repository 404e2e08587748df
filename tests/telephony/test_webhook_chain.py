"""A Twilio webhook goes through the slim middleware chain (settings.WEBHOOK_MIDDLEWARE): no
session, authentication, messages, CSRF or locale negotiation, the security headers and the
request screens kept; and the wait loop answers from memory when the app is behind."""

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from queues.models import Queue
from telephony.models import WebhookEvent
from tests.conftest import call_fields
from tests.factories import CALLER_SID, incoming, post_wait, twiml, verb_details

pytestmark = pytest.mark.django_db


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_twilio_webhook_view_is_under_a_webhook_path():
    import re

    paths = [re.compile(pattern) for pattern in settings.WEBHOOK_PATHS]
    webhooks = [
        route for route, view in _patterns(get_resolver()) if getattr(view, "twilio_webhook", 0)
    ]
    assert len(webhooks) > 15
    assert [route for route in webhooks if not any(p.match(route) for p in paths)] == []


def test_a_webhook_sets_no_cookie_and_never_reads_the_session(twilio, demo, client, supervisor):
    client.force_login(supervisor)  # the request even carries a logged-in session cookie
    with CaptureQueriesContext(connection) as queries:
        response = incoming(twilio)

    assert response.status_code == 200
    assert response.cookies == {}
    assert not any("django_session" in query["sql"] for query in queries.captured_queries)
    assert not any("auth_user" in query["sql"] for query in queries.captured_queries)
    # No locale negotiation: LocaleMiddleware would add these.
    assert "Content-Language" not in response
    assert "Accept-Language" not in response.get("Vary", "")
    assert "Cookie" not in response.get("Vary", "")


def test_a_page_still_goes_through_the_whole_chain(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/agent/reviews/")
    assert response.wsgi_request.user == supervisor
    assert "Content-Language" in response


def test_a_webhook_keeps_the_security_headers(twilio, demo):
    response = incoming(twilio)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert "Permissions-Policy" in response


def test_a_webhooks_content_security_policy_is_the_one_csp_middleware_writes(twilio, demo, rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    expected = CSPMiddleware(lambda request: HttpResponse("<Response/>"))(rf.post("/x"))

    response = incoming(twilio)

    assert response["Content-Security-Policy"] == expected["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in response


def test_a_webhook_answer_is_sized_so_its_connection_can_be_reused(twilio, demo):
    response = incoming(twilio)

    assert response["Content-Length"] == str(len(response.content))


def test_a_forged_webhook_is_still_refused_and_stored(twilio, demo):
    response = twilio.post("/twilio/voice/incoming", call_fields(To="+815012345678"), signature="x")

    assert response.status_code == 403
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FORGED


def test_a_malformed_webhook_is_still_a_400_with_the_request_stored(twilio, demo):
    response = twilio.post("/twilio/voice/incoming", call_fields(CallSid="not-a-sid", To="+81"))

    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.fields["CallSid"]) == (WebhookEvent.Outcome.INVALID, "not-a-sid")


def test_a_nul_byte_in_a_path_outside_the_decorator_is_still_a_400(twilio):
    response = twilio.post("/twilio/voice/fallback?x=%00", call_fields())

    assert response.status_code == 400


def test_behind_a_trusted_proxy_the_public_url_still_validates(twilio, demo, settings):
    settings.TRUSTED_PROXY = True
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["testserver", "cc.example.com"]

    response = twilio.post(
        "/twilio/voice/incoming",
        call_fields(To="+815012345678"),
        host="cc.example.com",
        secure=True,
        HTTP_X_FORWARDED_HOST="cc.example.com",
        HTTP_X_FORWARDED_PROTO="https",
    )

    assert response.status_code == 200
    assert "https://cc.example.com/twilio/" in response.content.decode()


# --- Overload: the wait loop answers from memory ----------------------------------------------


@pytest.fixture
def behind_a_proxy(settings):
    settings.TRUSTED_PROXY = True
    settings.WEBHOOK_BEHIND_MS = 1000


def _stamp(seconds_ago: float) -> str:
    return f"t={time.time() - seconds_ago:.3f}"  # nginx: t=${msec}


def _wait(twilio, queue, queue_time, **headers):
    """A wait-URL request with headers the proxy added (post_wait takes fields, not headers)."""
    fields = call_fields(
        CALLER_SID, CallStatus="in-progress", QueueTime=str(queue_time), QueuePosition="1"
    )
    return twilio.post(f"/twilio/queues/{queue.slug}/wait", fields, **headers)


def _waiting(twilio):
    queue = Queue.objects.get(slug="support")
    incoming(twilio)
    post_wait(twilio, queue, queue_time=0)
    return queue


def test_a_wait_request_that_waited_too_long_gets_hold_music_and_no_query(
    twilio, demo, behind_a_proxy
):
    queue = _waiting(twilio)
    events = WebhookEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = _wait(twilio, queue, 40, HTTP_X_REQUEST_START=_stamp(2.5))

    assert response.status_code == 200
    assert queries.captured_queries == []
    # Nothing after the music: Twilio asks the wait URL again when a wait document runs out.
    assert verb_details(twiml(response)) == [("Play", queue.hold_music_url, {})]
    assert WebhookEvent.objects.count() == events  # nothing stored under overload


def test_a_queue_this_process_never_read_gets_a_pause(twilio, demo, behind_a_proxy):
    from telephony import configcache

    configcache.clear()
    queue = Queue.objects.get(slug="support")

    response = _wait(twilio, queue, 3, HTTP_X_REQUEST_START=_stamp(1.5))

    assert [verb[0] for verb in verb_details(twiml(response))] == ["Pause"]


def test_a_fresh_wait_request_is_handled_as_usual(twilio, demo, behind_a_proxy):
    queue = _waiting(twilio)
    stamp = f"t={int((time.time() - 0.2) * 1000)}"  # milliseconds are read too

    response = _wait(twilio, queue, 40, HTTP_X_REQUEST_START=stamp)

    assert "Say" in [verb[0] for verb in verb_details(twiml(response))]  # the position
    assert WebhookEvent.objects.filter(path__endswith="/wait").count() == 2


def test_the_header_is_ignored_without_a_trusted_proxy(twilio, demo, settings):
    settings.TRUSTED_PROXY = False
    queue = _waiting(twilio)

    response = _wait(twilio, queue, 40, HTTP_X_REQUEST_START=_stamp(60))

    assert "Say" in [verb[0] for verb in verb_details(twiml(response))]  # the position
    assert WebhookEvent.objects.filter(path__endswith="/wait", call_sid=CALLER_SID).count() == 2


def test_a_forged_request_is_refused_even_under_overload(twilio, demo, behind_a_proxy):
    queue = Queue.objects.get(slug="support")
    response = twilio.post(
        f"/twilio/queues/{queue.slug}/wait",
        call_fields(QueueTime="4"),
        signature="forged",
        HTTP_X_REQUEST_START=_stamp(5),
    )
    assert response.status_code == 403
