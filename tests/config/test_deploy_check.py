"""`manage.py check --deploy` is clean with a production environment."""

import os

from tests.factories import manage_py

PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "x7#kq2!v9@p-production-looking-secret-key-with-enough-entropy-4f8a",
    "ALLOWED_HOSTS": "cc.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "TRUSTED_PROXY": "True",
}


def run_manage(*args, env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEBUG", "SECURE_", "SECRET_KEY"))
    }
    full_env.update(env)
    return manage_py(*args, env=full_env, timeout=120)


def test_check_deploy_reports_no_issue_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = run_manage("check", env={**env, "SECRET_KEY": ""})

    assert result.returncode != 0


def test_signature_checks_can_only_be_turned_off_in_debug():
    result = run_manage("check", env={**PRODUCTION_ENV, "TWILIO_VALIDATE_SIGNATURES": "False"})

    assert result.returncode != 0
    assert "TWILIO_VALIDATE_SIGNATURES" in result.stderr
