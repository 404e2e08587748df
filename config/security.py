"""Protections every app shares: the client's address for login throttling, safe CSV cells."""

import csv
import re

from axes.backends import AxesStandaloneBackend
from django.conf import settings

# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection"), tab and
# carriage return included: some spreadsheets strip them and then see the formula behind.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number (an E.164 phone number, a negative figure) calls no function: kept as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, for logins that come with a request (every login page, the admin,
    the API). Code on the server that calls authenticate() without one (a management command, a
    test) has no client to throttle and goes straight to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY the last X-Forwarded-For entry: the address our own
    proxy saw (entries before it are whatever the client chose to send)."""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def csv_cell(value):
    """A value a spreadsheet shows as text: one that starts like a formula gets a leading quote.
    Numbers, and strings that are only a signed number, are written as they are."""
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer whose every cell goes through csv_cell: the one way the project writes CSV."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs) -> SafeCsvWriter:
    return SafeCsvWriter(out, **kwargs)
