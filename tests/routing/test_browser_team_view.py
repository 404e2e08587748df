"""The team view in a real browser: the page redraws itself from its JSON (an agent's status
changed on the server shows up without a reload), and breaks no Content-Security-Policy."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services import agent_set_status
from tests.conftest import browser_login, save_screenshot, wait_for_js
from tests.deploy.test_security_headers import COLLECT_VIOLATIONS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_team_view_refreshes_by_itself(browser, live_server, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_PASSWORD", "pw-demo")
    call_command("seed_demo", stdout=io.StringIO())
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 700})
    page = context.new_page()
    page.add_init_script(COLLECT_VIOLATIONS)
    browser_login(page, live_server, "supervisor", "pw-demo")
    page.goto(f"{live_server.url}/supervisor/team/")
    status = 'document.querySelector(\'[data-agent="agent1"] [data-field="status"]\')'
    assert page.evaluate(f"{status}.textContent") == "offline"

    agent_set_status(
        agent=Agent.objects.get(identity="agent1"), status=AgentStatus.BREAK, now=timezone.now()
    )

    wait_for_js(page, f"{status}.textContent === 'break'")
    assert page.evaluate("window.__cspViolations") == []
    assert not page.locator("#team-session").is_visible()  # no session open
    save_screenshot(page, "supervisor-team-view.png", japanese=False)
    context.close()
