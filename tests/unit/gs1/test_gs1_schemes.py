"""Every EPC URI scheme of the CBV's canonical mapping, both ways: EPC URI and GS1 Digital
Link name the same thing, so they give the same canonical form and the same event hash.

The expected Digital Links were computed by hand from TDS 2.0 (company prefix, reference,
GS1 check digit) and agree with the independent ``epcis-event-hash-generator`` normaliser
(checked below, not assumed)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from epcis_corpus import document
from epcis_event_hash_generator import hash_generator, json_to_py
from epcis_event_hash_generator.dl_normaliser import normaliser

from xinlian.gs1.eventhash import event_hash
from xinlian.gs1.identifiers import (
    EPC_SCHEMES,
    canonical_id,
    is_gs1_key,
    to_digital_link,
    to_epc_urn,
)

pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")

# (scheme, EPC URI, canonical Digital Link)
CASES = [
    ("sgtin", "urn:epc:id:sgtin:0614141.112345.400", "https://id.gs1.org/01/10614141123459/21/400"),
    ("sscc", "urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
    ("sgln", "urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
    ("grai", "urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
    ("giai", "urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
    ("gsrn", "urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902"),
    ("gsrnp", "urn:epc:id:gsrnp:0614141.1234567890",
     "https://id.gs1.org/8017/061414112345678902"),
    ("gdti", "urn:epc:id:gdti:0614141.12345.400", "https://id.gs1.org/253/0614141123452400"),
    ("cpi", "urn:epc:id:cpi:0614141.123ABC.123456789",
     "https://id.gs1.org/8010/0614141123ABC/8011/123456789"),
    ("sgcn", "urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711"),
    ("ginc", "urn:epc:id:ginc:0614141.xyz4711", "https://id.gs1.org/401/0614141xyz4711"),
    ("gsin", "urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890"),
    ("itip", "urn:epc:id:itip:4012345.012345.01.02.987",
     "https://id.gs1.org/8006/040123451234560102/21/987"),
    ("upui", "urn:epc:id:upui:1234567.089456.51qIgY",
     "https://id.gs1.org/01/01234567894560/235/51qIgY"),
    ("pgln", "urn:epc:id:pgln:1234567.89012", "https://id.gs1.org/417/1234567890128"),
    ("class:lgtin", "urn:epc:class:lgtin:4012345.012345.998877",
     "https://id.gs1.org/01/04012345123456/10/998877"),
    ("idpat:sgtin", "urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
    ("idpat:grai", "urn:epc:idpat:grai:4012345.98765.*", "https://id.gs1.org/8003/04012345987652"),
    ("idpat:gdti", "urn:epc:idpat:gdti:4012345.98765.*", "https://id.gs1.org/253/4012345987652"),
    ("idpat:sgcn", "urn:epc:idpat:sgcn:4012345.98765.*", "https://id.gs1.org/255/4012345987652"),
    ("idpat:cpi", "urn:epc:idpat:cpi:4012345.98765.*", "https://id.gs1.org/8010/401234598765"),
    ("idpat:itip", "urn:epc:idpat:itip:4012345.012345.01.02.*",
     "https://id.gs1.org/8006/040123451234560102"),
    ("idpat:upui", "urn:epc:idpat:upui:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
]  # fmt: skip


def test_every_scheme_is_covered() -> None:
    assert sorted(EPC_SCHEMES) == sorted(c[0] for c in CASES)


def reference_hash(event: dict[str, Any]) -> str:
    json_to_py._namespaces = {}
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document([event])))
    (digest,) = hash_generator.epcis_hashes_from_events(events)
    return str(digest)


def event_naming(uri: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": [uri],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "readPoint": {"id": uri},
        "bizTransactionList": [{"type": "po", "bizTransaction": uri}],
    }


@pytest.mark.parametrize(("scheme", "urn", "dl"), CASES, ids=[c[0] for c in CASES])
def test_urn_and_digital_link_are_one_identifier(scheme: str, urn: str, dl: str) -> None:
    assert canonical_id(urn) == dl
    assert canonical_id(dl) == dl
    assert normaliser(urn) == dl  # the independent implementation agrees
    # the same event written with either form has one hash, ours and the reference's
    by_urn, by_dl = event_naming(urn), event_naming(dl)
    assert event_hash(by_urn) == event_hash(by_dl) == reference_hash(by_urn)
    assert reference_hash(by_dl) == event_hash(by_dl)
    assert is_gs1_key(dl) is None


@pytest.mark.parametrize(("scheme", "urn", "dl"), CASES, ids=[c[0] for c in CASES])
def test_round_trip(scheme: str, urn: str, dl: str) -> None:
    cp_length = len(urn.split(":")[4].split(".", maxsplit=1)[0])
    back = to_epc_urn(dl, cp_length)
    if scheme == "idpat:upui":  # a UPUI pattern and an SGTIN pattern name the same GTIN
        assert back == urn.replace("upui", "sgtin")
    else:
        assert back == urn
    assert to_epc_urn(urn, cp_length) == back


def test_gdti_in_a_hash_is_its_digital_link() -> None:
    """GDTIs were hashed as URNs, so a document naming a GDTI hashed differently from the
    reference, and from the same document naming it as a Digital Link."""
    urn, dl = "urn:epc:id:gdti:0614141.12345.400", "https://id.gs1.org/253/0614141123452400"
    event = dict(event_naming(urn), bizTransactionList=[{"type": "cert", "bizTransaction": urn}])
    assert event_hash(event) == reference_hash(event)
    assert event_hash(event) == event_hash(
        dict(event_naming(dl), bizTransactionList=[{"type": "cert", "bizTransaction": dl}])
    )


@pytest.mark.parametrize(
    ("uri", "key", "digits", "expected"),
    [
        ("https://id.gs1.org/253/0614141123453400", "GDTI", "0614141123453", 2),
        ("https://id.gs1.org/8018/061414112345678903", "GSRN", "061414112345678903", 2),
        ("https://id.gs1.org/8017/061414112345678901", "GSRN-P", "061414112345678901", 2),
        ("https://id.gs1.org/402/06141411234567891", "GSIN", "06141411234567891", 0),
        ("https://id.gs1.org/255/401234567890204711", "GCN", "4012345678902", 1),
        ("https://id.gs1.org/8006/040123451234570102/21/1", "ITIP", "04012345123457", 6),
    ],
)
def test_check_digits_of_every_key(uri: str, key: str, digits: str, expected: int) -> None:
    reason = f"{key} {digits} has check digit {digits[-1]}, expected {expected}"
    assert is_gs1_key(uri) == reason


def _random_uris(r: random.Random) -> list[str]:
    x = "abcXYZ0123456789-._!'()*+,:;="

    def ser(n: int) -> str:
        return "".join(r.choice(x) for _ in range(r.randint(1, n)))

    def d(n: int) -> str:
        return "".join(r.choice("0123456789") for _ in range(n))

    n = r.randint(6, 11)
    cp, ir, ref, r17, r16 = d(n), d(13 - n), d(12 - n), d(17 - n), d(16 - n)
    cpref = "".join(r.choice("0123456789ABZ-") for _ in range(r.randint(1, 30 - n)))
    s = ser(20).replace(".", "a")
    host = r.choice(["https://id.gs1.org", "https://example.com/x", "http://a.b"])
    return [
        f"urn:epc:id:sgtin:{cp}.{ir}.{ser(20)}", f"urn:epc:id:sscc:{cp}.{r17}",
        f"urn:epc:id:sgln:{cp}.{ref}.{ser(20)}", f"urn:epc:id:grai:{cp}.{ref}.{ser(16)}",
        f"urn:epc:id:giai:{cp}.{ser(30 - n)}", f"urn:epc:id:gsrn:{cp}.{r17}",
        f"urn:epc:id:gsrnp:{cp}.{r17}", f"urn:epc:id:gdti:{cp}.{ref}.{ser(17)}",
        f"urn:epc:id:cpi:{cp}.{cpref}.{d(r.randint(1, 12))}",
        f"urn:epc:id:sgcn:{cp}.{ref}.{d(r.randint(1, 12))}", f"urn:epc:id:ginc:{cp}.{ser(30 - n)}",
        f"urn:epc:id:gsin:{cp}.{r16}", f"urn:epc:id:itip:{cp}.{ir}.{d(2)}.{d(2)}.{ser(20)}",
        f"urn:epc:id:upui:{cp}.{ir}.{ser(28)}", f"urn:epc:id:pgln:{cp}.{ref}",
        f"urn:epc:class:lgtin:{cp}.{ir}.{ser(20)}", f"urn:epc:idpat:sgtin:{cp}.{ir}.*",
        f"urn:epc:idpat:grai:{cp}.{ref}.*", f"urn:epc:idpat:gdti:{cp}.{ref}.*",
        f"urn:epc:idpat:sgcn:{cp}.{ref}.*", f"urn:epc:idpat:cpi:{cp}.{cpref}.*",
        f"urn:epc:idpat:itip:{cp}.{ir}.{d(2)}.{d(2)}.*", f"urn:epc:idpat:upui:{cp}.{ir}.*",
        f"{host}/01/{d(14)}/21/{s}", f"{host}/gtin/{d(r.choice([8, 12, 13, 14]))}/10/{s}/21/{s}",
        f"{host}/01/{d(14)}/22/{s}", f"{host}/itip/{d(18)}", f"{host}/8006/{d(18)}/10/{s}",
        f"{host}/253/{d(13)}{s[: r.randint(0, 17)]}", f"{host}/gdti/{d(13)}",
        f"{host}/255/{d(13)}{d(r.randint(0, 12))}", f"{host}/401/{s}", f"{host}/402/{d(17)}",
        f"{host}/8010/{cpref}/8011/{d(5)}", f"{host}/8017/{d(18)}", f"{host}/gsrn/{d(18)}?x=1",
        f"{host}/8003/0{d(13)}{s[:5]}", f"{host}/01/{d(14)}/235/{s}", f"{host}/414/{d(13)}/254/{s}",
        f"{host}/417/{d(13)}/", f"{host}/00/{d(18)}",
    ]  # fmt: skip


def test_random_identifiers_agree_with_the_reference_normaliser() -> None:
    r = random.Random(7)
    cases = [uri for _ in range(300) for uri in _random_uris(r)]
    assert [to_digital_link(c) for c in cases] == [normaliser(c) for c in cases]


def test_cpv_before_a_long_itip_serial_is_removed() -> None:
    """Known divergence (docs/trace.md): the reference removes a CPV from an ITIP only when
    the rest of the path is at most 20 characters; the canonical form never has a CPV."""
    uri = "https://id.gs1.org/8006/040123451234560102/22/v1/21/abcdefghij0123456789"
    assert normaliser(uri) is None
    assert (
        to_digital_link(uri) == "https://id.gs1.org/8006/040123451234560102/21/abcdefghij0123456789"
    )
