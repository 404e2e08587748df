"""export_flows / import_flows: an exact round trip, validation, all or nothing."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ivr.models import BusinessHours, Flow, PhoneNumber, Step

from .conftest import import_flow

pytestmark = pytest.mark.django_db


def export() -> dict:
    out = StringIO()
    call_command("export_flows", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def rich_flows(demo_flow):
    """The demo plus a flow using every step kind."""
    schedule = {
        "name": "Office",
        "time_zone": "Asia/Tokyo",
        "ranges": [
            {"weekday": 0, "opens": "09:00", "closes": "18:00"},
            {"weekday": 5, "opens": "10:00", "closes": "00:00"},
        ],
        "holidays": [{"date": "2027-01-01", "name": "元日"}],
    }
    return import_flow(
        [
            {
                "name": "hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "menu",
                "closed_step": "vm",
            },
            {
                "name": "menu",
                "kind": "menu",
                "text": "Press 1 or 22.",
                "audio_url": "",
                "num_digits": 2,
                "timeout": 7,
                "invalid_message": "Sorry.",
                "repeat_prompt": True,
                "no_input_message": "",
                "max_retries": 2,
                "no_input_step": None,
                "options": [{"key": "1#", "target": "dial"}, {"key": "22", "target": "demo"}],
            },
            {
                "name": "dial",
                "kind": "dial",
                "dial_number": "+81355550000",
                "timeout": 25,
                "next_step": "vm",
            },
            {
                "name": "vm",
                "kind": "voicemail",
                "text": "Leave a message.",
                "audio_url": "",
                "max_length": 90,
                "next_step": "bye",
            },
            {"name": "demo", "kind": "goto", "goto_flow": "新サービス"},
            {"name": "bye", "kind": "hangup", "text": "Bye."},
        ],
        name="Every kind",
        voice="Polly.Joanna",
        number="+815099990000",
        schedules=[schedule],
    )


def test_export_then_import_into_an_empty_database_round_trips_exactly(rich_flows, tmp_path):
    before = export()
    path = tmp_path / "flows.json"
    call_command("export_flows", output=str(path), stderr=StringIO())
    PhoneNumber.objects.all().delete()
    Step.objects.all().delete()
    Flow.objects.all().delete()
    BusinessHours.objects.all().delete()

    call_command("import_flows", str(path), stdout=StringIO())

    assert export() == before
    assert Flow.objects.get(name="Every kind").steps.count() == 6


def test_importing_the_same_document_twice_changes_nothing(rich_flows):
    document = export()
    ids = sorted(Step.objects.values_list("id", flat=True))

    from ivr.flowfile import flows_import

    flows_import(document=document)

    assert export() == document
    assert sorted(Step.objects.values_list("id", flat=True)) == ids


def test_an_invalid_document_changes_nothing_and_lists_every_problem(rich_flows, tmp_path):
    document = export()
    before = json.loads(json.dumps(document))
    index = [f["name"] for f in document["flows"]].index("Every kind")
    flow = document["flows"][index]
    flow["steps"][0]["open_step"] = "nowhere"
    flow["steps"][1]["options"][1]["key"] = "AB"
    flow["steps"][2]["dial_number"] = "0355"
    flow["steps"][1]["text"] = "Changed, but must not be saved."
    document["numbers"][0]["number"] = "12345"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_flows", str(path), stdout=StringIO())

    message = str(error.value)
    assert f"flows[{index}].steps[0].open_step" in message
    assert f"flows[{index}].steps[1].options[1].key" in message
    assert f"flows[{index}].steps[2].dial_number" in message
    assert "numbers[0].number" in message
    assert export() == before


def test_an_unknown_queue_is_refused(demo_flow):
    document = export()
    document["flows"][0]["steps"][2]["queue"] = "nonexistent"

    from ivr.flowfile import FlowFileError, flows_import

    with pytest.raises(FlowFileError) as error:
        flows_import(document=document)

    assert any("queue" in e and "nonexistent" in e for e in error.value.errors)


def test_a_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"format": "something/2"}', encoding="utf-8")

    with pytest.raises(CommandError, match="format"):
        call_command("import_flows", str(path), stdout=StringIO())
