"""GS1 identifiers: check digits, EPC URIs, GS1 Digital Link URIs and industrial-internet ids.

Everything a trace event names (trade items, logistic units, locations, parties, lots) is
compared in one *canonical* form: the constrained canonical GS1 Digital Link URI on
``https://id.gs1.org`` with the finest identification level only (a serial drops the
lot, a CPV is removed, GTINs are padded to 14 digits). This is the form the CBV 2.0
event-hash algorithm prescribes, so :func:`canonical_id` serves both hashing and indexing.

Accepted input forms:

* EPC pure-identity URIs: ``urn:epc:id:sgtin:``, ``sscc``, ``sgln``, ``pgln``, ``grai``,
  ``giai``; class URIs ``urn:epc:class:lgtin:``; pattern ``urn:epc:idpat:sgtin:CP.IR.*``;
* GS1 Digital Link URIs on any host, with AI numbers or the short names (``gtin``,
  ``lot``, ``ser``, ``sscc``, ``gln``, ``party``, ``grai``, ``giai``, ``cpv``);
* Industrial-internet identifiers ``88.<industry>.<enterprise>/<suffix>`` (China's
  Industrial Internet identifier resolution system, Handle syntax): checked by
  :func:`parse_ii_id`; the ``trace`` app maps them to GS1 identifiers on chain.

Anything else is left as it is (``canonical_id`` returns its input), which is how the CBV
treats URIs that carry no GS1 key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DL_ROOT",
    "IdentifierError",
    "IndustrialId",
    "canonical_id",
    "check_digit",
    "digital_link",
    "gtin14",
    "is_gs1_key",
    "location_parent",
    "parse_ii_id",
    "to_digital_link",
]

DL_ROOT = "https://id.gs1.org"


class IdentifierError(ValueError):
    """An identifier that is malformed (wrong length, bad check digit, bad syntax)."""


# CHECK DIGITS


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (a key without its check digit): weights
    3, 1, 3, ... from the right (GS1 General Specifications 7.9.1)."""
    if not digits.isascii() or not digits.isdigit():
        raise IdentifierError(f"{digits!r} is not a string of digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gtin14(gtin: str) -> str:
    """A GTIN-8/12/13/14 as GTIN-14, after checking its length and check digit."""
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise IdentifierError(f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits")
    if check_digit(gtin[:-1]) != int(gtin[-1]):
        raise IdentifierError(
            f"GTIN {gtin} has check digit {gtin[-1]}, expected {check_digit(gtin[:-1])}"
        )
    return gtin.zfill(14)


def _checked(key: str, what: str) -> str:
    if check_digit(key[:-1]) != int(key[-1]):
        raise IdentifierError(
            f"{what} {key} has check digit {key[-1]}, expected {check_digit(key[:-1])}"
        )
    return key


# EPC URI -> DIGITAL LINK

# One character of an EPC URI serial/lot/extension (TDS: GS1 AI encodable character set 82,
# with the URI-reserved characters %-escaped).
_XCHAR = (
    r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]"
    r"|[!')(*+,.0-9:;=A-Za-z_-])"
)


def _cp_ref(total: int) -> str:
    """A GS1 company prefix (6-12 digits), '.', and the rest of ``total`` digits."""
    options = [
        rf"\d{{{cp}}}\." + (rf"\d{{{total - cp}}}" if total > cp else "") for cp in range(6, 13)
    ]
    return "(" + "|".join(options) + ")"


_CP_IR13 = _cp_ref(13)
_CP_REF12 = _cp_ref(12)
_CP_SSCC = _cp_ref(17)

_SGTIN = re.compile(rf"urn:epc:id:sgtin:{_CP_IR13}\.({_XCHAR}{{1,20}})")
_LGTIN = re.compile(rf"urn:epc:class:lgtin:{_CP_IR13}\.({_XCHAR}{{1,20}})")
_SGTIN_PAT = re.compile(rf"urn:epc:idpat:sgtin:{_CP_IR13}\.\*")
_SSCC = re.compile(rf"urn:epc:id:sscc:{_CP_SSCC}")
_SGLN = re.compile(rf"urn:epc:id:sgln:{_CP_REF12}\.({_XCHAR}{{1,20}})")
_PGLN = re.compile(rf"urn:epc:id:pgln:{_CP_REF12}")
_GRAI = re.compile(rf"urn:epc:id:grai:{_CP_REF12}\.({_XCHAR}{{1,16}})")
_GIAI = re.compile(r"urn:epc:id:giai:(\d{6,12})\.(" + _XCHAR + r"{1,24})")


def _pct(text: str) -> str:
    """%-escape the characters a Digital Link path segment may not carry verbatim."""
    for char, code in (
        ("!", "%21"),
        ("(", "%28"),
        (")", "%29"),
        ("*", "%2A"),
        ("+", "%2B"),
        (",", "%2C"),
        (":", "%3A"),
    ):
        text = text.replace(char, code)
    return text


def _gtin_of(cp_ir: str) -> str:
    cp, ir = cp_ir.split(".")
    raw = ir[:1] + cp + ir[1:]
    return raw + str(check_digit(raw))


def _epc_to_dl(uri: str) -> str | None:
    if m := _SGTIN.fullmatch(uri):
        return f"{DL_ROOT}/01/{_gtin_of(m[1])}/21/{_pct(m[2])}"
    if m := _LGTIN.fullmatch(uri):
        return f"{DL_ROOT}/01/{_gtin_of(m[1])}/10/{_pct(m[2])}"
    if m := _SGTIN_PAT.fullmatch(uri):
        return f"{DL_ROOT}/01/{_gtin_of(m[1])}"
    if m := _SSCC.fullmatch(uri):
        cp, ref = m[1].split(".")
        raw = ref[:1] + cp + ref[1:]
        return f"{DL_ROOT}/00/{raw}{check_digit(raw)}"
    if m := _SGLN.fullmatch(uri):
        cp, ref = m[1].split(".")
        gln = cp + ref
        gln += str(check_digit(gln))
        ext = m[2]
        return f"{DL_ROOT}/414/{gln}" if ext == "0" else f"{DL_ROOT}/414/{gln}/254/{_pct(ext)}"
    if m := _PGLN.fullmatch(uri):
        cp, ref = m[1].split(".")
        return f"{DL_ROOT}/417/{cp + ref}{check_digit(cp + ref)}"
    if m := _GRAI.fullmatch(uri):
        cp, ref = m[1].split(".")
        raw = "0" + cp + ref
        return f"{DL_ROOT}/8003/{raw}{check_digit(raw)}{_pct(m[2])}"
    if m := _GIAI.fullmatch(uri):
        return f"{DL_ROOT}/8004/{m[1]}{_pct(m[2])}"
    return None


# DIGITAL LINK -> CANONICAL DIGITAL LINK

_SHORT = {
    "gtin": "01",
    "sscc": "00",
    "gln": "414",
    "party": "417",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}
_DL_SHAPE = re.compile(
    r"https?://[^/?#]*((?:/[^/?#]*)*?)/(00|01|414|417|8003|8004|gtin|sscc|gln|party|grai|giai)"
    r"/(\d{4}[^/?#]*)((?:/[^/?#]+/[^/?#]+)*)(\?[^#]*)?"
)
# Characters a canonical Digital Link value may hold (what the reference normaliser keeps).
_V = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_CANONICAL = (
    re.compile(r"/00/\d{18}"),
    re.compile(rf"/01/\d{{14}}/21/{_V}{{0,20}}"),
    re.compile(rf"/01/\d{{14}}/10/{_V}{{0,20}}"),
    re.compile(r"/01/\d{14}"),
    re.compile(rf"/01/\d{{14}}/235/{_V}{{0,28}}"),
    re.compile(r"/414/\d{13}"),
    re.compile(rf"/414/\d{{13}}/254/{_V}{{0,20}}"),
    re.compile(r"/417/\d{13}"),
    re.compile(rf"/8003/\d{{14}}{_V}{{0,16}}"),
    re.compile(rf"/8004/{_V}{{0,30}}"),
)


def _dl_to_canonical(uri: str) -> str | None:
    m = _DL_SHAPE.fullmatch(uri)
    if m is None:
        return None
    key = _SHORT.get(m[2], m[2])
    value = m[3]
    pairs = m[4].split("/")[1:] if m[4] else []
    qualifiers = [(_SHORT.get(pairs[i], pairs[i]), pairs[i + 1]) for i in range(0, len(pairs), 2)]
    if key == "01" and value.isdigit():
        value = value.zfill(14) if len(value) in (8, 12, 13) else value
    qualifiers = [(ai, v) for ai, v in qualifiers if ai != "22"]
    ais = [ai for ai, _ in qualifiers]
    if key == "01" and ais == ["10", "21"]:
        qualifiers = qualifiers[1:]
    path = f"/{key}/{value}" + "".join(f"/{ai}/{v}" for ai, v in qualifiers)
    if not any(p.fullmatch(path) for p in _CANONICAL):
        return None
    return DL_ROOT + path


# PUBLIC


def to_digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link form of an EPC URI or a Digital Link URI, or None if
    ``uri`` carries no GS1 key this module knows (check digits are not checked here:
    see :func:`is_gs1_key`)."""
    if uri.startswith("urn:epc:"):
        return _epc_to_dl(uri)
    if uri.startswith(("https://", "http://")):
        return _dl_to_canonical(uri)
    return None


def canonical_id(uri: str) -> str:
    """``uri`` in canonical Digital Link form if it carries a GS1 key, else unchanged."""
    return to_digital_link(uri) or uri


def is_gs1_key(uri: str) -> str | None:
    """Check the check digit of the GS1 key in a canonical Digital Link; returns a reason
    if it is wrong, None if it is right or ``uri`` is not a canonical Digital Link."""
    if not uri.startswith(DL_ROOT + "/"):
        return None
    parts = uri[len(DL_ROOT) + 1 :].split("/")
    key, value = parts[0], parts[1] if len(parts) > 1 else ""
    width = {"00": 18, "01": 14, "414": 13, "417": 13, "8003": 14}.get(key)
    if width is None:
        return None
    digits = value[:width]
    try:
        _checked(digits, {"00": "SSCC", "01": "GTIN", "8003": "GRAI"}.get(key, "GLN"))
    except IdentifierError as exc:
        return str(exc)
    return None


def digital_link(
    gtin: str, *, serial: str | None = None, lot: str | None = None, root: str = DL_ROOT
) -> str:
    """Build a GS1 Digital Link URI for a trade item (GTIN checked), its lot or a serial."""
    path = f"{root.rstrip('/')}/01/{gtin14(gtin)}"
    for ai, value in (("10", lot), ("21", serial)):
        if value is not None:
            if not re.fullmatch(f"{_V}{{1,20}}", value):
                raise IdentifierError(f"AI {ai} value {value!r} is not 1-20 allowed characters")
            path += f"/{ai}/{value}"
    return path


def location_parent(location: str) -> str:
    """The GLN a sub-location (``.../414/<gln>/254/<ext>``) belongs to; else the input."""
    head, sep, _ = location.partition("/254/")
    return head if sep and head.startswith(DL_ROOT + "/414/") else location


@dataclass(frozen=True, slots=True)
class IndustrialId:
    """An industrial-internet identifier ``88.<industry>.<enterprise>/<suffix>``."""

    industry: str
    enterprise: str
    suffix: str

    @property
    def prefix(self) -> str:
        """The enterprise prefix ``88.<industry>.<enterprise>``."""
        return f"88.{self.industry}.{self.enterprise}"

    def __str__(self) -> str:
        return f"{self.prefix}/{self.suffix}"


_II = re.compile(r"88\.(\d{1,6})\.(\d{1,12})/([\x21-\x7e]{1,200})")


def parse_ii_id(text: str) -> IndustrialId:
    """Parse ``88.<industry>.<enterprise>/<suffix>`` (digits, digits, 1-200 printable
    ASCII characters without spaces)."""
    m = _II.fullmatch(text)
    if m is None:
        raise IdentifierError(
            f"{text[:80]!r} is not an industrial-internet identifier "
            "'88.<industry digits>.<enterprise digits>/<suffix>'"
        )
    return IndustrialId(m[1], m[2], m[3])
