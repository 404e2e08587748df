"""collectstatic with the production storage (hashed names, compressed copies) accepts every file
the project ships, vendored libraries included."""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def manifest_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE},
    }
    return settings.STATIC_ROOT


def test_collectstatic_with_the_manifest_storage_accepts_every_vendored_file(manifest_storage):
    # tests.settings switches the manifest off for speed; production picks it unless DEBUG.
    from config import settings as production

    assert production.STORAGES["staticfiles"]["BACKEND"] == PRODUCTION_STATIC_STORAGE
    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = (manifest_storage / "staticfiles.json").read_text()
    for name in (
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "vendor/chartjs/chart.umd.js",
        "vendor/twilio-voice-sdk/twilio.min.js",
    ):
        assert f'"{name}"' in manifest


def test_no_vendored_file_points_at_a_file_that_is_not_shipped():
    vendor = django_settings.BASE_DIR / "static" / "vendor"
    for path in vendor.rglob("*"):
        if path.suffix in {".js", ".css"}:
            assert "sourceMappingURL" not in path.read_text(), path
