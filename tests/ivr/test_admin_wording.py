"""The flow admin speaks the reader's language: a repeated step name is said at the step, and
the Try transcript names who hung up instead of the emulator's code for it."""

import re

import pytest
from django.urls import reverse

from tests.config.test_translations import compiled_catalogs, japanese  # noqa: F401

from .admin_forms import flow_post_data
from .conftest import step_of

pytestmark = pytest.mark.django_db
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


@pytest.fixture
def sup_client(client, supervisor):
    client.force_login(supervisor)
    return client


def steps_formset(response):
    for formset in response.context["inline_admin_formsets"]:
        if formset.formset.prefix == "steps":
            return formset.formset
    raise AssertionError("no steps formset")


def test_a_repeated_step_name_is_refused_at_each_step_that_repeats_it(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    info = step_of(demo_flow, "product-info")
    index = next(
        int(key.split("-")[1])
        for key, value in data.items()
        if key.startswith("steps-") and key.endswith("-id") and value == str(info.pk)
    )
    data[f"steps-{index}-name"] = "main-menu"

    response = sup_client.post(reverse("admin:ivr_flow_change", args=[demo_flow.pk]), data)

    assert response.status_code == 200
    formset = steps_formset(response)
    assert not formset.non_form_errors()
    named = [form for form in formset.forms if form.data.get(f"{form.prefix}-name") == "main-menu"]
    assert len(named) == 2
    for form in named:
        assert form.errors["name"] == ["Another step of this flow is also named “main-menu”."]
    assert step_of(demo_flow, "product-info").name == "product-info"


@pytest.mark.usefixtures("japanese")
def test_a_repeated_step_name_is_explained_in_japanese(sup_client, demo_flow):
    data = flow_post_data(demo_flow)
    info = step_of(demo_flow, "product-info")
    index = next(
        int(key.split("-")[1])
        for key, value in data.items()
        if key.startswith("steps-") and key.endswith("-id") and value == str(info.pk)
    )
    data[f"steps-{index}-name"] = "main-menu"

    response = sup_client.post(reverse("admin:ivr_flow_change", args=[demo_flow.pk]), data, **JA)

    body = response.content.decode()
    assert "このフローには「main-menu」という名前のステップが他にもあります。" in body
    assert "name の重複" not in body


@pytest.mark.usefixtures("japanese")
def test_the_try_transcript_names_who_hung_up_in_japanese(sup_client, demo_flow):
    response = sup_client.get(
        reverse("admin:ivr_flow_try", args=[demo_flow.pk]), {"keys": "", "press": "2"}, **JA
    )

    transcript = response.content.decode().split('class="ivr-transcript"', 1)[1]
    transcript = re.sub(r"\s+", " ", transcript.split("</ol>", 1)[0])
    assert "フローが切断" in transcript
    assert "通話終了 (完了, フローが切断)" in transcript
    assert "切断</span> app" not in transcript
