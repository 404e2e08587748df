"""The flow admin keeps a flow whole: no step vanishes while keys or steps lead to it, and no
menu changes kind while it still has keys."""

import pytest
from django.db.models import RestrictedError
from django.urls import reverse

from ivr.models import Flow, MenuOption, Step

from .admin_forms import flow_post_data
from .conftest import step_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sup_client(client, supervisor):
    client.force_login(supervisor)
    return client


def change_url(flow):
    return reverse("admin:ivr_flow_change", args=[flow.pk])


def index_of(data, prefix, pk):
    for key, value in data.items():
        if key.startswith(f"{prefix}-") and key.endswith("-id") and value == str(pk):
            return int(key.split("-")[1])
    raise AssertionError(f"no {prefix} form for {pk}")


def step_errors(response, step):
    for formset in response.context["inline_admin_formsets"]:
        if formset.formset.prefix == "steps":
            for form in formset.formset.forms:
                if form.instance.pk == step.pk:
                    return form.errors
    raise AssertionError("no step form")


def test_deleting_a_step_a_menu_key_leads_to_is_refused_and_names_the_key(sup_client, demo_flow):
    info = step_of(demo_flow, "product-info")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', info.pk)}-DELETE"] = "on"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    message = " ".join(step_errors(response, info)["__all__"])
    assert "key 2 of main-menu" in message
    assert Step.objects.filter(pk=info.pk).exists()
    assert MenuOption.objects.filter(target=info, key="2").exists()
    assert "was not deleted" in response.content.decode()


def test_deleting_a_step_another_step_continues_to_is_refused_and_names_it(sup_client, demo_flow):
    queue_step = step_of(demo_flow, "support-queue")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', queue_step.pk)}-DELETE"] = "on"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    message = " ".join(step_errors(response, queue_step)["__all__"])
    assert "step to-operator (next step)" in message
    assert step_of(demo_flow, "to-operator").next_step_id == queue_step.pk


def test_the_start_step_is_not_deleted_from_under_the_flow(sup_client, demo_flow):
    menu = step_of(demo_flow, "main-menu")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', menu.pk)}-DELETE"] = "on"

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert "start step" in " ".join(step_errors(response, menu)["__all__"])
    assert Flow.objects.get(pk=demo_flow.pk).start_step_id == menu.pk


def test_a_step_is_deleted_once_nothing_leads_to_it(sup_client, demo_flow):
    info = step_of(demo_flow, "product-info")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', info.pk)}-DELETE"] = "on"
    key_two = MenuOption.objects.get(target=info)
    data[f"options-{index_of(data, 'options', key_two.pk)}-DELETE"] = "on"
    assert sup_client.post(change_url(demo_flow), data).status_code == 200  # still a key

    data.pop(f"steps-{index_of(data, 'steps', info.pk)}-DELETE")
    assert sup_client.post(change_url(demo_flow), data).status_code == 302  # the key goes
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', info.pk)}-DELETE"] = "on"
    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 302
    assert not Step.objects.filter(pk=info.pk).exists()


def test_code_cannot_delete_a_step_a_key_leads_to_but_the_whole_flow_goes(demo_flow):
    with pytest.raises(RestrictedError):
        step_of(demo_flow, "product-info").delete()

    demo_flow.numbers.all().delete()
    demo_flow.delete()

    assert not Step.objects.filter(flow_id=demo_flow.pk).exists()
    assert not MenuOption.objects.filter(flow_id=demo_flow.pk).exists()


def test_a_menu_with_keys_cannot_change_kind_and_says_so_at_the_kind(sup_client, demo_flow):
    menu = step_of(demo_flow, "main-menu")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', menu.pk)}-kind"] = Step.Kind.SAY

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 200
    assert "still has keys (1, 2)" in " ".join(step_errors(response, menu)["kind"])
    assert step_of(demo_flow, "main-menu").kind == Step.Kind.MENU
    assert MenuOption.objects.filter(step=menu).count() == 2


def test_a_menu_changes_kind_when_its_keys_are_deleted_in_the_same_save(sup_client, demo_flow):
    menu = step_of(demo_flow, "main-menu")
    data = flow_post_data(demo_flow)
    data[f"steps-{index_of(data, 'steps', menu.pk)}-kind"] = Step.Kind.SAY
    for option in MenuOption.objects.filter(step=menu):
        data[f"options-{index_of(data, 'options', option.pk)}-DELETE"] = "on"
    data[f"steps-{index_of(data, 'steps', menu.pk)}-next_step"] = str(
        step_of(demo_flow, "to-operator").pk
    )

    response = sup_client.post(change_url(demo_flow), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert step_of(demo_flow, "main-menu").kind == Step.Kind.SAY
    # Later saves of the same flow go through (before, blank menu fields refused every save).
    assert sup_client.post(change_url(demo_flow), flow_post_data(demo_flow)).status_code == 302
