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
