"""Every report with a date range offers the common ranges in one click."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.metrics import local_today

pytestmark = pytest.mark.django_db


def presets(html):
    import re

    links = re.findall(r'<a class="btn btn-sm [^"]*"\s+href="([^"]+)">([^<]+)</a>', html)
    return {label: parse_qs(urlsplit(href.replace("&amp;", "&")).query) for href, label in links}


@pytest.mark.parametrize("url_name", ["reports:index", "reports:agents", "reports:abandoned"])
def test_each_report_offers_date_presets_that_keep_the_other_filters(
    client, analyst, support, url_name
):
    client.force_login(analyst)
    today = local_today(timezone.now())

    response = client.get(reverse(url_name), {"queue": "support", "page": "2"})

    found = presets(response.content.decode())
    assert list(found) == [
        "Today",
        "Yesterday",
        "This week",
        "Last 7 days",
        "This month",
        "Last month",
    ]
    assert found["Today"]["start"] == found["Today"]["end"] == [today.isoformat()]
    assert found["Last 7 days"]["start"] == [(today - timedelta(days=6)).isoformat()]
    assert found["This week"]["start"] == [(today - timedelta(days=today.weekday())).isoformat()]
    last_month_end = today.replace(day=1) - timedelta(days=1)
    assert found["Last month"]["start"] == [last_month_end.replace(day=1).isoformat()]
    assert found["Last month"]["end"] == [last_month_end.isoformat()]
    assert found["Today"]["queue"] == ["support"]
    assert "page" not in found["Today"]
