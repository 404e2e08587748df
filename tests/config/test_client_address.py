"""The address login throttling counts: REMOTE_ADDR, or behind TRUSTED_PROXY the one the proxy
appended to X-Forwarded-For (never what the client wrote there itself)."""

from config.security import client_ip


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(rf, settings):
    settings.TRUSTED_PROXY = False
    request = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.1.1")

    assert client_ip(request) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_last_forwarded_address_counts(rf, settings):
    settings.TRUSTED_PROXY = True
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")

    assert client_ip(request) == "198.51.100.7"
