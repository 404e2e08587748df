import pytest

from agents.phone import to_e164


@pytest.mark.parametrize(
    "raw,e164",
    [
        ("+81312345678", "+81312345678"),
        ("03-1234-5678", "+81312345678"),
        ("090 1111 2222", "+819011112222"),
        ("(03) 1234-5678", "+81312345678"),
        ("０９０－１１１１－２２２２", "+819011112222"),
        ("010-1-415-555-0100", "+14155550100"),
        ("00 44 20 7946 0000", "+442079460000"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_it_writes_numbers_in_e164(raw, e164):
    assert to_e164(raw) == e164


@pytest.mark.parametrize(
    "raw", ["", "anonymous", "client:agent1", "12345", "+0123456789", "+1234567890123456", "03-12"]
)
def test_it_refuses_what_is_not_a_phone_number(raw):
    assert to_e164(raw) is None
