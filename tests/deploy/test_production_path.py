"""The production path for real: the README's production commands (migrate, collectstatic,
compilemessages), gunicorn with production settings, behind nginx terminating TLS with a
certificate made for this run, all on loopback. Checked over HTTPS as a browser and Twilio would:
the login page and its hashed static files, a supervisor's login, a webhook signed for the public
https URL. Runs on the suite's database engine (a database of its own on PostgreSQL)."""

import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.cookiejar import CookieJar

import environ
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, call_fields

from .servers import ROOT, free_port, gunicorn, nginx, production_env

pytestmark = pytest.mark.deploy

NUMBER = "+815012345678"
PASSWORD = "a-supervisor-password-for-the-smoke-test"
# What an operator adds after the first deployment: a supervisor, and a number with a menu.
CREATE_SUPERVISOR = f"""
from django.contrib.auth.models import Group, User
user = User.objects.create_user("supervisor", password="{PASSWORD}", is_staff=True)
user.groups.add(Group.objects.get(name="Supervisors"))
"""
FLOWS = {
    "format": "tsunagu.flows/1",
    "schedules": [],
    "flows": [
        {
            "name": "Main",
            "language": "en-US",
            "voice": "",
            "start_step": "menu",
            "steps": [
                {
                    "name": "menu",
                    "kind": "menu",
                    "text": "For support press 1.",
                    "options": [{"key": "1", "target": "bye"}],
                },
                {"name": "bye", "kind": "hangup", "text": "Goodbye."},
            ],
        }
    ],
    "numbers": [{"number": NUMBER, "name": "Main", "flow": "Main", "twilio_sid": ""}],
}


def nginx_server_block(*, https_port, app_port, certificate, key):
    """The server block of docs/deploy.md's example, on loopback ports."""
    return f"""
    server {{
        listen 127.0.0.1:{https_port} ssl;
        server_name localhost;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        client_max_body_size 1m;
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-Start "t=${{msec}}";
            proxy_connect_timeout 5s;
            proxy_read_timeout 15s;
            proxy_max_temp_file_size 0;
        }}
    }}
"""


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """A database of the suite's engine for the deployment: SQLite in a temporary folder, or a
    fresh PostgreSQL database next to the suite's (named test_… so CI's clean-up finds it)."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'db.sqlite3'}"
        return
    import psycopg

    config = environ.Env.db_url_config(suite_url)
    name = f"test_{config['NAME']}_deploy_{os.getpid()}"[:63]
    admin = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield suite_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def site(tmp_path_factory, database_url):
    """https://localhost:<port>: nginx with a fresh self-signed certificate in front of gunicorn."""
    folder = tmp_path_factory.mktemp("site")
    folder.chmod(0o755)  # nginx's workers (nobody) reach their temporary folders
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost",
         "-keyout", key, "-out", certificate],
        check=True, capture_output=True,
    )  # fmt: skip
    https_port = free_port()
    public = f"https://localhost:{https_port}"
    env = production_env(
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="localhost",
        CSRF_TRUSTED_ORIGINS=public,
        TRUSTED_PROXY="True",
        STATIC_ROOT=folder / "staticfiles",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        LANGUAGE_CODE="en",
    )
    # The README's production commands, as an operator types them.
    flows = folder / "flows.json"
    flows.write_text(json.dumps(FLOWS))
    manage = [sys.executable, "manage.py"]
    for command in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["compilemessages", "--ignore", ".venv"],
        ["shell", "-c", CREATE_SUPERVISOR],
        ["import_flows", str(flows)],
    ):
        done = subprocess.run(manage + command, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"manage.py {command[0]}: {done.stdout}{done.stderr}"

    with gunicorn(env, workers=2) as app_port:
        server = nginx_server_block(
            https_port=https_port, app_port=app_port, certificate=certificate, key=key
        )
        with nginx(folder, server, https_port):
            context = ssl.create_default_context(cafile=certificate)  # verified, not ignored
            yield public, context


def browser(context):
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(CookieJar()),
    )


def test_the_login_page_and_its_hashed_static_files_load_over_https(site):
    public, context = site
    with browser(context).open(f"{public}/accounts/login/", timeout=15) as response:
        assert response.status == 200
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        html = response.read().decode()

    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert any("bootstrap.min." in asset for asset in assets)
    for asset in assets:
        # collectstatic's manifest: a content hash in every name, cached for ever.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), asset
        with browser(context).open(public + asset, timeout=15) as response:
            assert response.status == 200
            assert "immutable" in response.headers["Cache-Control"]
            assert response.read()


def test_a_supervisor_logs_in_over_https(site):
    public, context = site
    opener = browser(context)
    with opener.open(f"{public}/accounts/login/", timeout=15) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    form = urllib.parse.urlencode(
        {"username": "supervisor", "password": PASSWORD, "csrfmiddlewaretoken": token[1]}
    ).encode()
    request = urllib.request.Request(
        f"{public}/accounts/login/",
        data=form,
        headers={"Referer": f"{public}/accounts/login/", "Origin": public},
    )
    with opener.open(request, timeout=15) as response:
        # The home page sends a supervisor to the admin, over HTTPS.
        assert response.status == 200
        assert response.url == f"{public}/admin/"
        assert "supervisor" in response.read().decode()  # the admin greets them by name


def test_a_webhook_signed_for_the_public_https_url_is_accepted(site):
    public, context = site
    url = f"{public}/twilio/voice/incoming"
    fields = call_fields(To=NUMBER)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, fields)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"X-Twilio-Signature": signature},
    )

    with browser(context).open(request, timeout=15) as response:
        assert response.status == 200
        root = ET.fromstring(response.read())

    gather = root.find("Gather")
    assert gather is not None  # the menu, not the apology
    # Every URL the app writes for Twilio is the public https one.
    assert gather.get("action").startswith(f"{public}/twilio/")


def test_a_webhook_signed_for_another_url_is_refused(site):
    public, context = site
    url = f"{public}/twilio/voice/incoming"
    fields = call_fields(To=NUMBER)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        url.replace("https://", "http://"), fields
    )
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"X-Twilio-Signature": signature},
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        browser(context).open(request, timeout=15)
    assert refused.value.code == 403


def test_healthz_over_https(site):
    public, context = site
    with browser(context).open(f"{public}/healthz", timeout=15) as response:
        assert response.status == 200
        assert response.read() == b'{"status": "ok"}'
