import xml.etree.ElementTree as ET

import pytest

from tests.conftest import call_fields

URL = "/twilio/voice/fallback"


@pytest.mark.django_db
def test_it_apologises_in_japanese_and_english_without_touching_the_database(
    twilio, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = twilio.post(
            URL, call_fields(ErrorCode="11200", ErrorUrl="https://example.com/twilio/x")
        )

    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert [(c.tag, c.get("language")) for c in root] == [
        ("Say", "ja-JP"),
        ("Say", "en-US"),
        ("Hangup", None),
    ]


def test_it_answers_while_the_database_is_down(twilio):
    # No django_db mark: pytest-django makes any database access in this test raise.
    response = twilio.post(URL, call_fields(ErrorCode="11205"))

    assert response.status_code == 200


@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_it_rejects_an_unsigned_request(client, signature):
    response = client.post(URL, call_fields(), HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


def test_it_refuses_get(client):
    assert client.get(URL).status_code == 405


# --- A repeatable webhook that got no answer is asked once more ---------------------------------

JOIN = "http://testserver/twilio/routing/bridges/7/join"
NO_INPUT = "http://testserver/twilio/ivr/flows/3/steps/4/no-input?attempt=1"


def _redirect(response):
    root = ET.fromstring(response.content)
    assert [child.tag for child in root] == ["Redirect"], response.content
    return root[0].get("method"), root[0].text


@pytest.mark.django_db(False)  # any query would raise: the retry, too, needs no database
@pytest.mark.parametrize("code", ["11200", "11205", "11217"])
@pytest.mark.parametrize(
    ("failed", "again"),
    [
        (JOIN, JOIN + "?fallback-retry=1"),
        ("http://testserver/twilio/routing/bridges/7/caller-done", None),
        ("http://testserver/twilio/voice/incoming", None),
        (NO_INPUT, NO_INPUT + "&fallback-retry=1"),
        ("http://testserver/twilio/ivr/flows/3/start", None),
        ("http://testserver/twilio/ivr/flows/3/steps/4", None),
    ],
)
def test_a_repeatable_webhook_that_got_no_answer_is_asked_once_more(twilio, code, failed, again):
    response = twilio.post(URL, call_fields(ErrorCode=code, ErrorUrl=failed))

    assert response.status_code == 200
    assert _redirect(response) == ("POST", again or failed + "?fallback-retry=1")


def _apologises(response) -> bool:
    root = ET.fromstring(response.content)
    return [child.tag for child in root] == ["Say", "Say", "Hangup"]


@pytest.mark.django_db(False)
@pytest.mark.parametrize(
    ("code", "failed"),
    [
        # Asked once more already: never a second time.
        ("11217", JOIN + "?fallback-retry=1"),
        ("11200", NO_INPUT + "&fallback-retry=1"),
        # A document the app answered wrongly would be answered wrongly again.
        ("12100", JOIN),
        ("12300", "http://testserver/twilio/voice/incoming"),
        # Requests carrying their own fields: a redirect would come without them. A menu's
        # keys are carried in the URL, but only when the fallback's request has them (not here).
        ("11217", "http://testserver/twilio/ivr/flows/3/steps/4/gather?attempt=0"),
        ("11217", "http://testserver/twilio/ivr/flows/3/steps/4/queue-exit"),
        # Not this app's webhook, or not at this origin.
        ("11217", "http://testserver/no/such/page"),
        ("11217", "https://example.com/twilio/routing/bridges/7/join"),
        ("11217", "https://testserver/twilio/routing/bridges/7/join"),
        ("11217", ""),
    ],
)
def test_otherwise_the_caller_hears_the_apology(twilio, code, failed):
    response = twilio.post(URL, call_fields(ErrorCode=code, ErrorUrl=failed))

    assert _apologises(response)


def test_only_webhooks_a_repeat_cannot_harm_are_marked_repeatable():
    from django.urls import get_resolver

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield pattern.callback

    repeatable = {
        f"{view.__module__}.{view.__name__}"
        for view in views(get_resolver().url_patterns)
        if getattr(view, "twilio_repeatable", False)
    }
    assert repeatable == {
        "ivr.views.voice_incoming",
        "ivr.views.flow_start",
        "ivr.views.step",
        "ivr.views.no_input",
        "ivr.views.gather",
        "routing.views.bridge_join",
        "routing.views.bridge_caller_done",
    }


@pytest.mark.django_db(False)
def test_a_menus_keys_go_back_with_the_caller_in_the_url(twilio):
    gather = "http://testserver/twilio/ivr/flows/3/steps/4/gather?attempt=0"

    response = twilio.post(URL, call_fields(ErrorCode="11217", ErrorUrl=gather, Digits="1"))

    assert _redirect(response) == ("POST", gather + "&Digits=1&fallback-retry=1")
