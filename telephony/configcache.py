"""The configuration a webhook renders from, kept in each process and keyed by the
configuration token (telephony.ConfigVersion).

Every save of something a webhook reads (a flow, a step, a number, a schedule, a queue and its
messages) gives the one ConfigVersion row a new random token, in the saving transaction
(``config_changed``). Every webhook reads the token in the same statement as its call-leg upsert
(``telephony.services.call_upsert_from_webhook``), so the process learns at no extra round trip
whether what it keeps is still current: a new token empties the process's cache, and the next
call on every process sees the change. A random token rather than a counter: a rolled-back
transaction puts back the old token together with the old rows, so a token always names one
state of the configuration.
"""

import threading
import uuid

from .models import ConfigVersion

CONFIG_TOKEN_SQL = f"(SELECT token FROM {ConfigVersion._meta.db_table} WHERE id = 1)"

_lock = threading.Lock()
_token: str | None = None
_entries: dict = {}


def config_changed() -> None:
    """Give the configuration a new token (call it in the transaction that saves the change)."""
    updated = ConfigVersion.objects.filter(pk=1).update(token=uuid.uuid4().hex)
    if not updated:
        ConfigVersion.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def config_token() -> str | None:
    """The current token, read on its own (for a request that did not read it with its upsert)."""
    return ConfigVersion.objects.filter(pk=1).values_list("token", flat=True).first()


def request_config_token(request) -> str | None:
    """The token this webhook read with its call leg, else read now (one query)."""
    token = getattr(request, "twilio_config_token", None)
    if token is None:
        token = config_token()
        request.twilio_config_token = token
    return token


def cached(key, token: str | None, build):
    """``build()`` once per process and configuration token. With no token (the row is
    missing: a database being set up or emptied) nothing is kept."""
    global _token, _entries
    if not token:
        return build()
    with _lock:
        if token == _token and key in _entries:
            return _entries[key]
    value = build()
    with _lock:
        if token != _token:
            _token, _entries = token, {}
        _entries[key] = value
    return value


def keep(key, token: str | None, value) -> None:
    """Keep ``value`` under ``key`` for configuration ``token`` (what ``cached`` does with what
    it built), for a value kept only when it turns out to be the same for every request."""
    global _token, _entries
    if not token:
        return
    with _lock:
        if token != _token:
            _token, _entries = token, {}
        _entries[key] = value


def cached_current(key, build):
    """``cached`` under the token this process last checked: for code a webhook runs after it
    read the configuration for its own token (e.g. the wait loop's queue), so that token is
    the current one, but which is not handed the request."""
    return cached(key, _token, build)


def peek(key):
    """What this process keeps under ``key`` for the last token it saw, without asking the
    database whether that is still current (None when nothing is kept): for answers that must
    take no query at all, where a slightly old value is better than none."""
    with _lock:
        return _entries.get(key)


def kept(key) -> tuple[str, object] | None:
    """(token, value) of what this process keeps under ``key`` for the last token it saw,
    without a query: for an answer prepared before the request reads the token, which holds
    only if the token the request then reads is this one (None when nothing is kept)."""
    with _lock:
        if _token is None or key not in _entries:
            return None
        return _token, _entries[key]


def clear() -> None:
    """Forget everything kept (tests)."""
    global _token, _entries
    with _lock:
        _token, _entries = None, {}
