"""A supervisor moves between the admin and the call center's pages in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_reaches_the_wallboard_reports_and_voicemails_from_the_admin(
    page, live_server, supervisor
):
    browser_login(page, live_server, "sup", "pw-sup")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    places = page.locator("#tsunagu-places")
    save_screenshot(page, "admin-places.png")

    places.get_by_role("link", name="Wallboard").click()
    expect(page).to_have_url(f"{live_server.url}/reports/wallboard/")
    page.go_back()
    places.get_by_role("link", name="Reports").click()
    expect(page).to_have_url(f"{live_server.url}/reports/")
    page.go_back()
    places.get_by_role("link", name="Voicemails").click()
    expect(page).to_have_url(f"{live_server.url}/voicemails/")
    page.go_back()

    # "View site" leads to a page of the site, not back to the admin.
    page.get_by_role("link", name="View site").click()
    expect(page).to_have_url(f"{live_server.url}/")
    for name in ("Wallboard", "Reports", "Voicemails", "Administration"):
        expect(page.locator("#home-pages").get_by_role("link", name=name)).to_be_visible()
    save_screenshot(page, "home-supervisor.png")


def test_a_supervisor_still_lands_in_the_admin_after_logging_in(client, supervisor):
    response = client.post("/accounts/login/", {"username": "sup", "password": "pw-sup"})

    assert response["Location"] == "/admin/"
    assert client.get("/").status_code == 200  # and "/" is a page of its own
