"""export_flows --flow NAME: one flow with the queues (and their messages), business hours and
numbers it uses, which imports on its own into an empty install; import_flows --dry-run says what
would be created, changed or left, and writes nothing."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ivr.models import BusinessHours, Flow, PhoneNumber, Step
from queues.models import Queue, QueueMessages

from .conftest import import_flow

pytestmark = pytest.mark.django_db

OFFICE = {
    "name": "Office",
    "time_zone": "Asia/Tokyo",
    "ranges": [{"weekday": 0, "opens": "09:00", "closes": "18:00"}],
    "holidays": [{"date": "2027-01-01", "name": "元日"}],
}


@pytest.fixture
def two_flows(db):
    sales = Queue.objects.create(
        slug="sales", name="Sales 営業", max_wait_seconds=90, service_level_target=70
    )
    QueueMessages.objects.create(
        queue=sales, language="ja-JP", position_message="{position}番目です。"
    )
    Queue.objects.create(slug="unused", name="Not used by the flow")
    import_flow(
        [{"name": "bye", "kind": "hangup", "text": "Bye."}], name="Goodbye", number="+815000000001"
    )
    BusinessHours.objects.create(name="Unused schedule")
    return import_flow(
        [
            {
                "name": "hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "q",
                "closed_step": "end",
            },  # fmt: skip
            {"name": "q", "kind": "queue", "queue": "sales", "next_step": "end"},
            {"name": "end", "kind": "goto", "goto_flow": "Goodbye"},
        ],
        name="Sales line",
        number="+815011112222",
        schedules=[OFFICE],
    )


def export(*args) -> dict:
    out = StringIO()
    call_command("export_flows", *args, stdout=out)
    return json.loads(out.getvalue())


def empty_the_install():
    PhoneNumber.objects.all().delete()
    Step.objects.all().delete()
    Flow.objects.all().delete()
    BusinessHours.objects.all().delete()
    Queue.objects.all().delete()


def test_one_flow_is_exported_with_what_it_uses_and_nothing_else(two_flows):
    document = export("--flow", "Sales line")

    assert [f["name"] for f in document["flows"]] == ["Goodbye", "Sales line"]  # goto included
    assert [q["slug"] for q in document["queues"]] == ["sales"]
    sales = document["queues"][0]
    assert sales["name"] == "Sales 営業"
    assert sales["max_wait_seconds"] == 90
    assert sales["messages"][0]["position_message"] == "{position}番目です。"
    assert [s["name"] for s in document["schedules"]] == ["Office"]
    assert document["schedules"][0]["holidays"] == [{"date": "2027-01-01", "name": "元日"}]
    assert [n["number"] for n in document["numbers"]] == ["+815000000001", "+815011112222"]


def test_an_unknown_flow_name_is_refused():
    with pytest.raises(CommandError, match="no flow 'Nope'"):
        export("--flow", "Nope")


def test_one_flow_imports_into_an_empty_install_and_round_trips(two_flows, tmp_path):
    path = tmp_path / "sales.json"
    call_command("export_flows", "--flow", "Sales line", output=str(path), stderr=StringIO())
    before = json.loads(path.read_text(encoding="utf-8"))
    empty_the_install()

    out = StringIO()
    call_command("import_flows", str(path), stdout=out)

    assert export("--flow", "Sales line") == before
    assert "queue sales: created" in out.getvalue()
    assert "flow Sales line: created" in out.getvalue()
    queue = Queue.objects.get(slug="sales")
    assert queue.messages.get().position_message == "{position}番目です。"
    assert not queue.is_synced  # saving it in the admin mirrors it to Twilio


def test_a_dry_run_reports_what_would_change_and_writes_nothing(two_flows, tmp_path):
    document = export("--flow", "Sales line")
    document["flows"][1]["steps"][0]["closed_step"] = "q"  # Sales line changes
    document["queues"][0]["name"] = "Sales desk"
    document["schedules"].append({"name": "Weekend", "time_zone": "Asia/Tokyo"})
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    before = export()

    out = StringIO()
    call_command("import_flows", str(path), "--dry-run", stdout=out)

    report = out.getvalue()
    assert "queue sales: changed" in report
    assert "business hours Weekend: created" in report
    assert "business hours Office: unchanged" in report
    assert "flow Sales line: changed" in report
    assert "flow Goodbye: unchanged" in report
    assert "number +815011112222: unchanged" in report
    assert "nothing was written" in report
    assert export() == before
    assert not BusinessHours.objects.filter(name="Weekend").exists()


def test_a_dry_run_of_an_invalid_file_lists_the_problems(two_flows, tmp_path):
    document = export("--flow", "Sales line")
    document["queues"][0]["max_size"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError, match=r"queues\[0\]\.max_size"):
        call_command("import_flows", str(path), "--dry-run", stdout=StringIO())
