"""Japanese readers see the right words: numbers are numbers, counts are counts, stored codes
("menu", "valid", "app") are shown as labels, and admin column headers are not field names."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from ivr.models import CallPathEntry, Flow
from queues.models import Queue, QueueResult
from tests.config.test_translations import compiled_catalogs, japanese  # noqa: F401
from tests.factories import make_visit, tokyo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("japanese")]
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


def cells(html: str, table_id: str) -> list[str]:
    """The text of every header and cell of one table, tags stripped."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table, flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in found]


@pytest.fixture
def menu_call(support):
    """A call that went through a menu (key 1, valid) into the support queue."""
    visit = make_visit(
        support, tokyo(2026, 11, 2, 10), QueueResult.BRIDGED, 7, answered=True, talk=30
    )
    flow = Flow.objects.create(name="main")
    for offset, (kind, digits, outcome) in enumerate(
        [
            ("menu", "", CallPathEntry.Outcome.ENTERED),
            ("menu", "1", CallPathEntry.Outcome.VALID),
        ]
    ):
        CallPathEntry.objects.create(
            call=visit.call,
            flow=flow,
            at=tokyo(2026, 11, 2, 9, 59, 50 + offset),
            step_name="main-menu",
            kind=kind,
            digits=digits,
            outcome=outcome,
        )
    return visit.call, flow


def test_call_detail_calls_the_numbers_caller_and_called_not_dates(client, analyst, menu_call):
    call, _ = menu_call
    client.force_login(analyst)

    body = client.get(reverse("reports:call-detail", args=[call.sid]), **JA).content.decode()

    summary = body.split('id="call-summary"', 1)[1].split("</dl>", 1)[0]
    assert "発信元番号" in summary
    assert "着信先番号" in summary
    assert "開始日" not in summary
    assert "終了日" not in summary
    heading = body.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "通話" in heading
    assert "発信" not in heading


def test_call_detail_timeline_shows_step_kinds_and_outcomes_as_labels(client, analyst, menu_call):
    call, _ = menu_call
    client.force_login(analyst)

    body = client.get(reverse("reports:call-detail", args=[call.sid]), **JA).content.decode()

    timeline = " ".join(cells(body, "call-timeline"))
    assert "音声メニュー（キー入力）" in timeline
    assert "有効なキー" in timeline
    assert "到達" in timeline
    for raw in ("menu ·", "· valid", "· entered"):
        assert raw not in timeline


def test_ivr_funnel_counts_times_and_labels_kinds_and_outcomes(client, analyst, menu_call):
    _, flow = menu_call
    client.force_login(analyst)

    body = client.get(
        reverse("reports:ivr"), {"start": "2026-11-02", "end": "2026-11-02", "flow": flow.pk}, **JA
    ).content.decode()

    steps = cells(body, "ivr-steps")
    assert "音声メニュー（キー入力）" in steps
    assert "menu" not in steps
    keys = cells(body, "ivr-keys")
    assert "回数" in keys
    assert "時刻" not in keys
    assert "有効なキー" in keys
    assert "valid" not in keys


def test_queue_visit_admin_headers_and_filters_are_japanese(client, supervisor, menu_call):
    Queue.objects.create(slug="sales", name="Sales")  # two queues: the queue filter shows
    client.force_login(supervisor)

    body = client.get(reverse("admin:queues_queuevisit_changelist"), **JA).content.decode()

    headers = [
        re.sub(r"<[^>]+>", "", header).strip()
        for header in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', body, flags=re.S)
    ]
    assert "キュー" in headers
    assert "通話" in headers
    assert not {"Queue", "Call", "queue", "call"} & set(headers)
    assert 'data-filter-title="キュー"' in body
    assert "キュー で絞り込む" in body
    assert 'data-filter-title="queue"' not in body


def test_import_flows_reports_in_japanese(tmp_path, demo):
    path = tmp_path / "flows.json"
    call_command("export_flows", output=str(path), stderr=StringIO())
    out = StringIO()

    with translation.override("ja"):
        call_command("import_flows", str(path), stdout=out)

    assert "インポートしました" in out.getvalue()
    assert "imported" not in out.getvalue()
