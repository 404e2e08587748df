"""A supervisor builds a whole flow in one save: targets (next step, menu keys, silence, open /
closed, the start step) may name steps added in the same save, as "new:<name>"."""

import pytest
from django.urls import reverse

from ivr.models import BusinessHours, Flow, MenuOption, Step
from ivr.selectors import build_snapshot
from ivr.validation import flow_warnings
from queues.models import Queue

from .admin_forms import add_form, flow_post_data

pytestmark = pytest.mark.django_db

DEFAULTS = {"num_digits": "1", "timeout": "5", "max_retries": "3", "max_length": "120"}


def new_flow_data(name="Ten steps"):
    data = {"name": name, "language": "en-US", "voice": ""}
    for prefix in ("steps", "options", "numbers"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def step(data, name, kind, **fields):
    add_form(data, "steps", {**DEFAULTS, "name": name, "kind": kind, **fields})


def option(data, menu, key, target):
    add_form(data, "options", {"step": f"new:{menu}", "key": key, "target": f"new:{target}"})


@pytest.fixture
def office(db):
    schedule = BusinessHours.objects.create(name="Office")
    schedule.ranges.create(weekday=0, opens="09:00", closes="18:00")
    return schedule


@pytest.fixture
def support(db):
    return Queue.objects.create(slug="support", name="Support", max_wait_seconds=60)


def ten_step_flow(office, support):
    data = new_flow_data()
    data["start_step"] = "new:hours"
    step(data, "hours", "hours", schedule=str(office.pk), open_step="new:main-menu",
         closed_step="new:closed-message")  # fmt: skip
    step(data, "main-menu", "menu", text="Support 1, billing 2, goodbye 9.",
         no_input_step="new:to-support")  # fmt: skip
    step(data, "billing-menu", "menu", text="Invoices 1, support 2.",
         no_input_step="new:main-menu")  # fmt: skip
    step(data, "to-support", "say", text="Connecting you.", next_step="new:support-queue")
    step(data, "support-queue", "queue", queue=str(support.pk), next_step="new:overflow-vm")
    step(data, "overflow-vm", "voicemail", text="Leave a message.", next_step="new:goodbye")
    step(data, "invoices", "say", text="Invoices go out on the 1st.", next_step="new:goodbye")
    step(data, "closed-message", "say", text="We are closed.", next_step="new:closed-vm")
    step(data, "closed-vm", "voicemail", text="Leave a message.", next_step="new:goodbye")
    step(data, "goodbye", "hangup", text="Goodbye.")
    option(data, "main-menu", "1", "to-support")
    option(data, "main-menu", "2", "billing-menu")
    option(data, "main-menu", "9", "goodbye")
    option(data, "billing-menu", "1", "invoices")
    option(data, "billing-menu", "2", "to-support")
    add_form(data, "numbers", {"number": "050-2222-3333", "name": "Main line"})
    return data


def test_a_ten_step_flow_with_menus_hours_and_overflow_saves_in_one_pass(
    sup_client, office, support
):
    response = sup_client.post(reverse("admin:ivr_flow_add"), ten_step_flow(office, support))

    assert response.status_code == 302, response.context and response.context["errors"]
    flow = Flow.objects.get(name="Ten steps")
    steps = {s.name: s for s in flow.steps.all()}
    assert len(steps) == 10
    assert flow.start_step == steps["hours"]
    assert steps["hours"].open_step == steps["main-menu"]
    assert steps["hours"].closed_step == steps["closed-message"]
    assert steps["main-menu"].no_input_step == steps["to-support"]
    assert steps["support-queue"].next_step == steps["overflow-vm"]
    keys = {(o.step.name, o.key): o.target.name for o in MenuOption.objects.filter(flow=flow)}
    assert keys == {
        ("main-menu", "1"): "to-support",
        ("main-menu", "2"): "billing-menu",
        ("main-menu", "9"): "goodbye",
        ("billing-menu", "1"): "invoices",
        ("billing-menu", "2"): "to-support",
    }
    assert flow.numbers.get().number == "+815022223333"
    assert flow_warnings(build_snapshot(flow.pk)) == []


def test_an_existing_flow_gains_a_step_and_a_key_leading_to_it_in_one_save(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    menu = Step.objects.get(flow=demo_flow, kind="menu", name="main-menu")
    step(data, "opening-hours", "say", text="We open at nine.", flow=str(demo_flow.pk))
    add_form(data, "options", {"step": str(menu.pk), "key": "3", "target": "new:opening-hours"})

    response = sup_client.post(reverse("admin:ivr_flow_change", args=[demo_flow.pk]), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert menu.options.get(key="3").target.name == "opening-hours"


def test_a_target_naming_no_step_of_the_save_is_refused_next_to_the_field_keeping_the_choice(
    sup_client, office, support
):
    data = ten_step_flow(office, support)
    data["steps-3-next_step"] = "new:nowhere"
    data["options-0-target"] = "new:nowhere-either"

    response = sup_client.post(reverse("admin:ivr_flow_add"), data)

    assert response.status_code == 200
    assert not Flow.objects.exists()
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    assert "nowhere" in str(formsets["steps"].forms[3].errors["next_step"])
    assert "nowhere-either" in str(formsets["options"].forms[0].errors["target"])
    # The steps added on the page stay choosable, and what was chosen stays chosen.
    body = response.content.decode()
    assert '<option value="new:invoices">' in body
    assert '<option value="new:to-support" selected>' in body


def test_keys_of_a_new_menu_are_checked_against_its_digits_and_each_other(
    sup_client, office, support
):
    data = ten_step_flow(office, support)
    option(data, "main-menu", "1", "goodbye")  # key 1 twice
    option(data, "billing-menu", "12", "goodbye")  # one digit expected
    option(data, "to-support", "1", "goodbye")  # not a menu

    response = sup_client.post(reverse("admin:ivr_flow_add"), data)

    assert response.status_code == 200
    options = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}[
        "options"
    ]
    assert options.forms[0].errors["key"]  # the first key 1
    assert options.forms[5].errors["key"]  # the second key 1
    assert "1 key(s)" in str(options.forms[6].errors["key"])
    assert options.forms[7].errors["step"]
    assert not Flow.objects.exists()


def test_a_new_step_cannot_lead_to_itself(sup_client, office, support):
    data = ten_step_flow(office, support)
    data["steps-3-next_step"] = "new:to-support"

    response = sup_client.post(reverse("admin:ivr_flow_add"), data)

    assert response.status_code == 200
    steps = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}[
        "steps"
    ]
    assert steps.forms[3].errors["next_step"]


def test_a_new_step_named_only_in_a_field_the_kind_does_not_use_is_ignored(
    sup_client, office, support
):
    data = ten_step_flow(office, support)
    data["steps-9-next_step"] = "new:nowhere"  # goodbye is a hang-up step: no next step

    response = sup_client.post(reverse("admin:ivr_flow_add"), data)

    assert response.status_code == 302
    assert Step.objects.get(name="goodbye").next_step is None
