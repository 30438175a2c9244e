"""GS1 identifiers: check digits, EPC URI and Digital Link forms, industrial-internet ids."""

from __future__ import annotations

import random

import pytest
from epcis_event_hash_generator.dl_normaliser import normaliser

from xinlian.gs1.identifiers import (
    IdentifierError,
    canonical_id,
    check_digit,
    digital_link,
    gtin14,
    is_gs1_key,
    location_parent,
    parse_ii_id,
    to_digital_link,
)


def test_check_digits() -> None:
    assert check_digit("952012345678") == 8  # GTIN-13 9520123456788
    assert check_digit("10614141073464"[:-1]) == 4
    assert check_digit("10614141234567890") == 8  # SSCC 106141412345678908
    assert gtin14("9520123456788") == "09520123456788"
    assert gtin14("12345670") == "00000012345670"
    with pytest.raises(IdentifierError, match="check digit 9, expected 8"):
        gtin14("9520123456789")
    with pytest.raises(IdentifierError, match="8, 12, 13 or 14 digits"):
        gtin14("952012345")


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2018", "https://id.gs1.org/01/10614141073464/21/2018"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.07346.0", "https://id.gs1.org/414/0614141073467"),
        ("urn:epc:id:sgln:0614141.07346.12", "https://id.gs1.org/414/0614141073467/254/12"),
        ("urn:epc:id:pgln:0614141.07346", "https://id.gs1.org/417/0614141073467"),
        ("urn:epc:class:lgtin:4012345.012345.998877",
         "https://id.gs1.org/01/04012345123456/10/998877"),
        ("urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
        ("urn:epc:id:sgtin:0614141.107346.a(1)", "https://id.gs1.org/01/10614141073464/21/a%281%29"),
        ("https://example.com/gtin/9520123456788/lot/L1/ser/S1?linkType=all",
         "https://id.gs1.org/01/09520123456788/21/S1"),
        ("https://example.com/01/09520123456788/22/v1/10/L1", "https://id.gs1.org/01/09520123456788/10/L1"),
        ("urn:example:not-gs1", "urn:example:not-gs1"),
    ],
)  # fmt: skip
def test_canonical_forms(uri: str, canonical: str) -> None:
    assert canonical_id(uri) == canonical


def test_agrees_with_the_reference_normaliser() -> None:
    r = random.Random(5)
    cases = []
    for _ in range(2000):
        cp = str(r.randrange(10**5, 10**12)).zfill(r.randint(6, 12))[:12]
        ir = str(r.randrange(10 ** (13 - len(cp)))).zfill(13 - len(cp))
        ser = "".join(r.choice("abcXYZ0123456789-._!'()*+,:;=") for _ in range(r.randint(1, 20)))
        gtin = str(r.randrange(10**13)).zfill(r.choice([8, 12, 13, 14]))
        cases += [
            f"urn:epc:id:sgtin:{cp}.{ir}.{ser}",
            f"urn:epc:class:lgtin:{cp}.{ir}.{ser}",
            f"urn:epc:id:sgln:{cp}.{ir[1:]}.{r.choice(['0', ser])}",
            f"https://example.com/01/{gtin}/10/{ser}/21/{ser[::-1]}",
            f"https://id.gs1.org/gtin/{gtin}" + r.choice(["", "/", "?a=b"]),
        ]
    assert [to_digital_link(c) for c in cases] == [normaliser(c) for c in cases]


def test_key_check_and_helpers() -> None:
    assert is_gs1_key("https://id.gs1.org/01/09520123456788/21/1") is None
    assert is_gs1_key("https://id.gs1.org/01/09520123456789") == (
        "GTIN 09520123456789 has check digit 9, expected 8"
    )
    assert is_gs1_key("https://id.gs1.org/00/106141412345678900") == (
        "SSCC 106141412345678900 has check digit 0, expected 8"
    )
    assert digital_link("9520123456788", lot="L1") == "https://id.gs1.org/01/09520123456788/10/L1"
    with pytest.raises(IdentifierError, match="AI 21 value"):
        digital_link("9520123456788", serial="a b")
    sub = "https://id.gs1.org/414/0614141073467/254/12"
    assert location_parent(sub) == "https://id.gs1.org/414/0614141073467"


def test_industrial_internet_ids() -> None:
    ii = parse_ii_id("88.118.8/SN-2024-0001")
    assert (ii.industry, ii.enterprise, ii.suffix, ii.prefix) == (
        "118",
        "8",
        "SN-2024-0001",
        "88.118.8",
    )
    assert str(ii) == "88.118.8/SN-2024-0001"
    for bad in ("86.1.2/x", "88.1/x", "88.1.2/", "88.a.2/x", "88.1.2/a b"):
        with pytest.raises(IdentifierError, match="not an industrial-internet identifier"):
            parse_ii_id(bad)
