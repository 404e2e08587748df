"""The live server's threads have database connections of their own, as real server processes do:
a browser test's page (served by those threads) and its webhooks (posted from the test's thread)
never share one connection and its transaction."""

import urllib.request

import pytest
from django.contrib.auth.models import User
from django.db import transaction


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.config.urls_live_probe")
def test_the_live_server_does_not_see_the_test_threads_uncommitted_rows(live_server):
    with transaction.atomic():
        User.objects.create(username="probe-uncommitted")
        seen_inside = urllib.request.urlopen(f"{live_server.url}/probe", timeout=30).read()

    seen_after = urllib.request.urlopen(f"{live_server.url}/probe", timeout=30).read()

    assert seen_inside == b"0"
    assert seen_after == b"1"
