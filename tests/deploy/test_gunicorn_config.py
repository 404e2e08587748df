"""gunicorn.conf.py: what gunicorn believes about the scheme follows TRUSTED_PROXY, as the app does;
the database gives up in time."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from .servers import ROOT, gunicorn, production_env

pytestmark = pytest.mark.deploy


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=15) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def page_claiming_https(tmp_path, trusted_proxy):
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="True",
        TRUSTED_PROXY=trusted_proxy,
    )
    with gunicorn(env, workers=1) as port:
        # A page that needs neither the database nor static files: the translation catalog.
        return get(f"http://127.0.0.1:{port}/jsi18n/", {"X-Forwarded-Proto": "https"})


def test_without_trusted_proxy_a_local_client_cannot_claim_https(tmp_path):
    status, headers = page_claiming_https(tmp_path, trusted_proxy="False")

    # Plain HTTP it is: the production settings send the browser to HTTPS.
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")


def test_with_trusted_proxy_the_proxy_on_loopback_says_https(tmp_path):
    status, _headers = page_claiming_https(tmp_path, trusted_proxy="True")

    assert status == 200


def test_gunicorn_kills_a_stuck_worker_before_twilio_gives_up():
    from gunicorn.app.base import Application

    class Config(Application):
        def load_config(self):
            self.load_config_from_file(str(ROOT / "gunicorn.conf.py"))

        def load(self):
            raise AssertionError

    config = Config(usage="", prog="").cfg

    assert 0 < config.timeout < 15
    assert config.worker_class_str == "sync"  # the timeout applies to a stuck request


def postgres_options(**env):
    code = "from django.conf import settings; print(repr(settings.DATABASES['default']['OPTIONS']))"
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=production_env(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL="postgres://tsunagu@db.internal:5432/tsunagu",
            **env,
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    return eval(done.stdout)  # noqa: S307 - our own repr of a dict of str and int


def test_postgresql_connections_have_connect_and_statement_timeouts():
    assert postgres_options() == {
        "connect_timeout": 3,
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c statement_timeout=8000",
    }


def test_the_timeouts_come_from_the_environment():
    options = postgres_options(DATABASE_CONNECT_TIMEOUT="5", DATABASE_STATEMENT_TIMEOUT="30")

    assert options == {
        "connect_timeout": 5,
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c statement_timeout=30000",
    }
