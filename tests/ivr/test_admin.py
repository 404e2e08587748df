"""The flow admin: editing a flow with its steps, options and numbers, validation next to the
field, warnings, cache invalidation, outline and history."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from ivr.models import Flow, MenuOption, PhoneNumber, Step
from tests.conftest import call_fields
from tests.factories import twiml

from .admin_forms import add_form, flow_post_data
from .conftest import NUMBER, step_of

pytestmark = pytest.mark.django_db


def change_url(flow):
    return reverse("admin:ivr_flow_change", args=[flow.pk])


def errors_of(response, prefix_field):
    """Errors a formset form shows next to ``field`` (e.g. ("options", 0, "key"))."""
    prefix, index, field = prefix_field
    for formset in response.context["inline_admin_formsets"]:
        if formset.formset.prefix == prefix:
            return formset.formset.forms[index].errors.get(field, [])
    raise AssertionError(f"no formset {prefix}")


def test_the_change_page_shows_steps_options_and_numbers_inline(sup_client, demo_flow):
    response = sup_client.get(change_url(demo_flow))

    assert response.status_code == 200
    prefixes = [f.formset.prefix for f in response.context["inline_admin_formsets"]]
    assert prefixes == ["steps", "options", "numbers"]
    body = response.content.decode()
    assert "ivr-kind-fields" in body
    assert reverse("admin:ivr_flow_try", args=[demo_flow.pk]) in body


def test_an_agent_may_not_open_the_flow_admin(client, agent_user, demo_flow):
    client.force_login(agent_user)

    response = client.get(change_url(demo_flow))

    assert response.status_code == 302  # agents are not staff: sent to the admin login


def test_a_saved_change_reaches_the_next_webhook_at_once(sup_client, twilio, demo_flow):
    twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER))  # the flow is cached now
    data = flow_post_data(demo_flow)
    data["steps-0-text"] = "新しい挨拶です。"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    root = twiml(twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER)))
    assert root.find("Gather/Say").text == "新しい挨拶です。"
    assert LogEntry.objects.filter(object_id=str(demo_flow.pk)).exists()


def test_a_duplicate_menu_key_is_refused_next_to_the_key(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    menu = step_of(demo_flow, "main-menu")
    index = add_form(
        data,
        "options",
        {
            "flow": str(demo_flow.pk),
            "step": str(menu.pk),
            "key": "1",
            "target": str(step_of(demo_flow, "product-info").pk),
        },
    )

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    errors = errors_of(response, ("options", index, "__all__")) or errors_of(
        response, ("options", index, "key")
    )
    assert errors
    assert MenuOption.objects.filter(step=menu).count() == 2


@pytest.mark.parametrize("key", ["A", "12", "-"])
def test_a_key_that_is_not_one_phone_key_is_refused(sup_client, demo_flow, key):
    data = flow_post_data(demo_flow)
    data["options-0-key"] = key

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert errors_of(response, ("options", 0, "key"))


def test_a_target_in_another_flow_is_refused(sup_client, demo_flow):
    other = Flow.objects.create(name="Other")
    foreign = Step.objects.create(flow=other, name="x", kind="say", text="x")
    data = flow_post_data(demo_flow)
    data["steps-1-next_step"] = str(foreign.pk)

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert errors_of(response, ("steps", 1, "next_step"))


def test_a_queue_step_needs_a_queue(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    del data["steps-2-queue"]

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert errors_of(response, ("steps", 2, "queue"))


def test_a_number_that_is_not_a_phone_number_is_refused_at_the_field(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    data["numbers-0-number"] = "050-12"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert errors_of(response, ("numbers", 0, "number"))
    assert PhoneNumber.objects.get().number == NUMBER


def test_it_warns_about_unreachable_steps_and_promptless_loops(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    add_form(
        data,
        "steps",
        {
            "flow": str(demo_flow.pk),
            "name": "orphan",
            "kind": "say",
            "text": "Nobody hears me.",
            "num_digits": "1",
            "timeout": "5",
            "max_retries": "3",
            "max_length": "120",
        },
    )
    sup_client.post(change_url(demo_flow), data)
    orphan = step_of(demo_flow, "orphan")
    loop = Step.objects.create(
        flow=demo_flow, name="loop", kind="say", text="again", next_step=orphan
    )
    orphan.next_step = loop
    orphan.save()
    data = flow_post_data(demo_flow)

    response = sup_client.post(change_url(demo_flow), data, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any("orphan" in m and "loop" in m and "reach" in m for m in messages)
    assert any("orphan → loop → orphan" in m for m in messages)


def test_the_outline_shows_prompts_keys_and_targets(sup_client, demo_flow):
    response = sup_client.get(reverse("admin:ivr_flow_outline", args=[demo_flow.pk]))

    assert response.status_code == 200
    root = response.context["outline"]["root"]
    assert root.step.name == "main-menu"
    labels = [branch.label for branch in root.branches]
    assert labels[:2] == ["key 1", "key 2"]
    assert root.branches[0].node.step.name == "to-operator"
    assert root.branches[0].node.branches[0].node.step.name == "support-queue"
    assert "こちらは、サンプルコールセンタです。" in response.content.decode()


def test_an_analyst_may_not_see_the_outline(client, analyst, demo_flow):
    client.force_login(analyst)

    response = client.get(reverse("admin:ivr_flow_outline", args=[demo_flow.pk]))

    assert response.status_code == 302
