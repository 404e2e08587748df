"""Every CSV the project writes shows a formula-looking cell as text (OWASP "CSV Injection")."""

import csv
import io

import pytest

from agents.models import Customer
from config.security import csv_cell

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/","Click")'


def rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+819011112222", "+819011112222"),
        ("-12.5", "-12.5"),
        ("山田 太郎", "山田 太郎"),
        (-3, -3),
        (None, ""),
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_a_leading_quote(value, written):
    assert csv_cell(value) == written


def test_the_customer_export_neutralises_formulas(client, supervisor):
    Customer.objects.create(phone_number="+819011112222", name=EVIL, company="@corp", notes="-x")
    client.force_login(supervisor)

    exported = rows(client.get("/admin/agents/customer/export/"))

    assert exported[0]["name"] == "'" + EVIL
    assert exported[0]["company"] == "'@corp"
    assert exported[0]["notes"] == "'-x"
    assert exported[0]["phone_number"] == "+819011112222"
