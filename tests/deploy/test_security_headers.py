"""Every page says what the browser may load and use (Content-Security-Policy, Permissions-Policy),
and no page breaks the policy: no inline script, inline style or foreign resource."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Min

from agents.models import Customer
from ivr.models import Flow
from tests.conftest import browser_login

FAKE_DEVICE = (Path(__file__).parent.parent / "agents" / "fake_twilio_device.js").read_text()
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


def directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/healthz", "/admin/login/", "/api/schema/", "/nowhere/"]
)
def test_every_response_carries_a_strict_policy(client, path):
    response = client.get(path)

    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions
    assert "geolocation=()" in permissions
    assert "microphone=(self)" in permissions


def test_twilio_webhooks_carry_the_headers_too(twilio):
    from tests.conftest import call_fields

    response = twilio.post("/twilio/voice/fallback", call_fields())

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert "Permissions-Policy" in response


PAGES_BY_PERSON = {
    "supervisor": [
        "/admin/",
        "/admin/ivr/flow/",
        "/admin/ivr/flow/{flow}/change/",
        "/admin/ivr/flow/{flow}/outline/",
        "/admin/ivr/flow/{flow}/try/?keys=1",
        "/admin/queues/queue/",
        "/admin/queues/queue/add/",
        "/admin/agents/agent/",
        "/reports/wallboard/",
        "/reports/ivr/?flow={flow}",
    ],
    "analyst": ["/reports/", "/reports/agents/", "/reports/abandoned/"],
    "agent1": ["/agent/", "/agent/customers/", "/agent/customers/{customer}/", "/voicemails/"],
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_page_breaks_the_content_security_policy(browser, live_server, settings):
    settings.DEBUG = False
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32
    call_command("seed_demo", stdout=StringIO())
    ids = {
        "flow": Flow.objects.aggregate(pk=Min("pk"))["pk"],
        "customer": Customer.objects.aggregate(pk=Min("pk"))["pk"] or 1,
    }
    if not Customer.objects.exists():
        ids["customer"] = Customer.objects.create(phone_number="+819011112222", name="Yamada").pk
    visited = []
    for username, paths in PAGES_BY_PERSON.items():
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.add_init_script(COLLECT_VIOLATIONS)
        page.add_init_script(FAKE_DEVICE)
        console = []
        page.on("console", lambda message, console=console: console.append(message.text))
        browser_login(page, live_server, username, "tsunagu-demo")
        for path in paths:
            url = live_server.url + path.format(**ids)
            response = page.goto(url)
            assert response.status == 200, url
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__cspViolations") == [], url
            visited.append(path)
        assert not [text for text in console if "Content Security Policy" in text], console
        context.close()
    assert len(visited) == sum(len(paths) for paths in PAGES_BY_PERSON.values())
