"""Numbers written the national way become E.164, by the region of the project (Japan)."""

import pytest

from telephony.phone import PhoneNumberFormField, default_region, to_e164


def test_the_default_region_is_japan():
    assert default_region() == "JP"


@pytest.mark.parametrize(
    "written,e164",
    [
        ("050-1234-5678", "+815012345678"),
        ("03 1234 5678", "+81312345678"),
        ("+81 50 1234 5678", "+815012345678"),
        ("０５０－１２３４－５６７８", "+815012345678"),
    ],
)
def test_national_and_international_forms_become_e164(written, e164):
    assert to_e164(written) == e164


def test_another_region_reads_national_numbers_of_that_country(settings):
    settings.PHONE_REGION = "US"

    assert to_e164("(415) 555-0100") == "+14155550100"


@pytest.mark.parametrize("written", ["050-12", "abc", "client:agent1", "+0123"])
def test_the_form_field_says_plainly_what_is_not_a_number(written):
    field = PhoneNumberFormField()

    with pytest.raises(Exception) as raised:
        field.clean(written)

    assert "050-1234-5678" in str(raised.value)
