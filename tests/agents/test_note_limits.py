"""Contact and customer notes are a page of text, not a file: longer ones are refused clearly."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import NOTE_MAX_CHARS, ContactNote, Customer

pytestmark = pytest.mark.django_db


def test_a_two_megabyte_contact_note_is_refused_with_a_400_naming_the_field(client, agent):
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:note-new"), {"text": "x" * 2_000_000, "phone_number": "+819011112222"}
    )

    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    assert not ContactNote.objects.exists()


def test_a_note_of_the_longest_length_is_kept(client, agent):
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:note-new"),
        {"text": "x" * NOTE_MAX_CHARS, "phone_number": "+819011112222"},
    )
    too_long = client.post(
        reverse("agents:note-new"),
        {"text": "x" * (NOTE_MAX_CHARS + 1), "phone_number": "+819011112222"},
    )

    assert response.status_code == 201
    assert too_long.status_code == 400


def test_the_admin_refuses_an_overlong_customer_note(client, supervisor):
    client.force_login(supervisor)

    response = client.post(
        "/admin/agents/customer/add/",
        {"phone_number": "+819011112222", "notes": "x" * (NOTE_MAX_CHARS + 1)},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["notes"]
    assert not Customer.objects.exists()


def test_a_customer_import_row_with_an_overlong_note_is_reported_and_skipped(client, supervisor):
    client.force_login(supervisor)
    body = f"phone_number,name,notes\n+819011112222,Taro,{'x' * (NOTE_MAX_CHARS + 1)}\n"

    client.post(
        "/admin/agents/customer/import/",
        {"file": SimpleUploadedFile("c.csv", body.encode(), "text/csv")},
    )

    assert not Customer.objects.exists()
