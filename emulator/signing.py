"""Twilio's request signature (X-Twilio-Signature), implemented from the published algorithm.

The app checks signatures with twilio's own ``RequestValidator``; the emulator signs with this
independent implementation so that a mistake on either side shows up as a failing request.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit


def _pairs(params) -> list[tuple[str, str]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        pairs = []
        getlist = getattr(params, "getlist", None)
        for key in params:
            values = getlist(key) if getlist else params[key]
            if isinstance(values, str) or not isinstance(values, Iterable):
                values = [values]
            pairs.extend((str(key), str(value)) for value in values)
        return pairs
    return [(str(key), str(value)) for key, value in params]


def signature_payload(url: str, params=None) -> str:
    """The string Twilio signs: the URL, then each field name + value sorted by name.

    A repeated field contributes each of its distinct values in sorted order (what
    RequestValidator does).
    """
    by_name: dict[str, set[str]] = {}
    for key, value in _pairs(params):
        by_name.setdefault(key, set()).add(value)
    parts = [url]
    for key in sorted(by_name):
        for value in sorted(by_name[key]):
            parts.append(key + value)
    return "".join(parts)


def compute_signature(url: str, params, auth_token: str) -> str:
    digest = hmac.new(
        auth_token.encode("utf-8"), signature_payload(url, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def url_as_signed(url: str) -> str:
    """The URL as Twilio signs it: credentials dropped; for HTTPS the port is dropped too."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.scheme != "https":
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
