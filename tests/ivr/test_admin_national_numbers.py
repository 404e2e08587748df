"""Flow numbers and forwarding numbers may be written the national way; they are stored in
E.164. Flow files accept both too."""

import pytest
from django.urls import reverse

from ivr.flowfile import flows_import
from ivr.models import Flow, PhoneNumber, Step

from .admin_forms import flow_post_data
from .conftest import step_of

pytestmark = pytest.mark.django_db


def change_url(flow):
    return reverse("admin:ivr_flow_change", args=[flow.pk])


def test_a_flow_number_written_the_national_way_is_stored_in_e164(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    data["numbers-0-number"] = "050-9876-5432"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 302
    assert PhoneNumber.objects.get().number == "+815098765432"


def test_the_number_admin_accepts_national_numbers_and_says_what_is_wrong(sup_client, demo_flow):
    url = reverse("admin:ivr_phonenumber_add")
    fields = {"name": "Sales line", "flow": str(demo_flow.pk), "twilio_sid": ""}

    refused = sup_client.post(url, {**fields, "number": "050-12"})
    accepted = sup_client.post(url, {**fields, "number": "０３－１２３４－５６７８"})

    assert refused.status_code == 200
    assert "050-1234-5678" in str(refused.context["adminform"].form.errors["number"])
    assert accepted.status_code == 302
    assert PhoneNumber.objects.filter(number="+81312345678").exists()


def test_the_same_number_written_another_way_is_a_duplicate(sup_client, demo_flow):
    url = reverse("admin:ivr_phonenumber_add")
    existing = PhoneNumber.objects.get().number  # +815012345678

    response = sup_client.post(
        url, {"number": "050-1234-5678", "name": "Again", "flow": str(demo_flow.pk)}
    )

    assert existing == "+815012345678"
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"]


def test_a_dial_step_forwards_to_a_national_number_stored_in_e164(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    index = next(
        i for i in range(int(data["steps-TOTAL_FORMS"])) if data[f"steps-{i}-kind"] == "say"
    )
    data[f"steps-{index}-kind"] = "dial"
    data[f"steps-{index}-dial_number"] = "090-1111-2222"
    data[f"steps-{index}-timeout"] = "20"
    name = data[f"steps-{index}-name"]

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 302
    assert step_of(demo_flow, name).dial_number == "+819011112222"


def test_a_flow_file_may_write_numbers_the_national_way(support_queue):
    flows_import(
        document={
            "format": "tsunagu.flows/1",
            "flows": [
                {
                    "name": "Forward",
                    "start_step": "out",
                    "steps": [{"name": "out", "kind": "dial", "dial_number": "03-1234-5678"}],
                }
            ],
            "numbers": [{"number": "050-1234-5678", "name": "main", "flow": "Forward"}],
        }
    )

    flow = Flow.objects.get(name="Forward")
    assert Step.objects.get(flow=flow).dial_number == "+81312345678"
    assert PhoneNumber.objects.get().number == "+815012345678"
