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
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DL_ROOT",
    "EPC_SCHEMES",
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
    "to_epc_urn",
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
_CP_REF16 = _cp_ref(16)
_CP_REF17 = _cp_ref(17)
_X = rf"(?:{_XCHAR})"
# One character of a CPI component reference (TDS: digits, upper-case letters, '-', and the
# %-escaped '#' and '/').
_CPREF_CHAR = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"


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


def _key_of(cp_ref: str) -> str:
    """A GLN-like key (company prefix, reference, check digit) of ``CP.REF``."""
    raw = cp_ref.replace(".", "")
    return raw + str(check_digit(raw))


def _sscc_of(cp_ref: str) -> str:
    cp, ref = cp_ref.split(".")
    raw = ref[:1] + cp + ref[1:]
    return raw + str(check_digit(raw))


def _units(text: str) -> int:
    """The number of characters an EPC URI component stands for (``%xx`` counts one)."""
    return len(re.findall(_XCHAR, text))


def _giai(m: re.Match[str]) -> str | None:
    if len(m[1]) + _units(m[2]) > 30:
        return None
    return f"{DL_ROOT}/8004/{m[1]}{_pct(m[2])}"


def _ginc(m: re.Match[str]) -> str | None:
    if len(m[1]) + _units(m[2]) > 30:
        return None
    return f"{DL_ROOT}/401/{m[1]}{_pct(m[2])}"


def _cpi(m: re.Match[str], serial: str | None) -> str | None:
    if len(m[1]) + len(re.findall(_CPREF_CHAR, m[2])) > 30:
        return None
    path = f"{DL_ROOT}/8010/{_pct(m[1] + m[2])}"
    return path if serial is None else f"{path}/8011/{serial}"


def _sgln(m: re.Match[str]) -> str:
    gln = _key_of(m[1])
    return f"{DL_ROOT}/414/{gln}" if m[2] == "0" else f"{DL_ROOT}/414/{gln}/254/{_pct(m[2])}"


#: Every EPC URI scheme with a GS1 Digital Link equivalent (TDS 2.0 section 6 and the CBV
#: canonical mapping): the URI's pattern and its canonical Digital Link. Instance-level
#: identifiers (``urn:epc:id:``) need their serial; class-level ones are
#: ``urn:epc:class:lgtin:`` (a lot) and the ``urn:epc:idpat:...:*`` patterns (a key only).
_EPC: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (re.compile(rf"urn:epc:id:sgtin:{_CP_IR13}\.({_X}{{1,20}})"),
     lambda m: f"{DL_ROOT}/01/{_gtin_of(m[1])}/21/{_pct(m[2])}"),
    (re.compile(rf"urn:epc:id:sscc:{_CP_REF17}"),
     lambda m: f"{DL_ROOT}/00/{_sscc_of(m[1])}"),
    (re.compile(rf"urn:epc:id:sgln:{_CP_REF12}\.({_X}{{1,20}})"), _sgln),
    (re.compile(rf"urn:epc:id:grai:{_CP_REF12}\.({_X}{{1,16}})"),
     lambda m: f"{DL_ROOT}/8003/0{_key_of(m[1])}{_pct(m[2])}"),
    (re.compile(rf"urn:epc:id:giai:(\d{{6,12}})\.({_X}{{1,24}})"), _giai),
    (re.compile(rf"urn:epc:id:gsrn:{_CP_REF17}"),
     lambda m: f"{DL_ROOT}/8018/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:id:gsrnp:{_CP_REF17}"),
     lambda m: f"{DL_ROOT}/8017/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:id:gdti:{_CP_REF12}\.({_X}{{1,17}})"),
     lambda m: f"{DL_ROOT}/253/{_key_of(m[1])}{_pct(m[2])}"),
    (re.compile(rf"urn:epc:id:cpi:(\d{{6,12}})\.({_CPREF_CHAR}{{1,24}})\.(\d{{1,12}})"),
     lambda m: _cpi(m, m[3])),
    (re.compile(rf"urn:epc:id:sgcn:{_CP_REF12}\.(\d{{1,12}})"),
     lambda m: f"{DL_ROOT}/255/{_key_of(m[1])}{m[2]}"),
    (re.compile(rf"urn:epc:id:ginc:(\d{{6,12}})\.({_X}{{1,24}})"), _ginc),
    (re.compile(rf"urn:epc:id:gsin:{_CP_REF16}"),
     lambda m: f"{DL_ROOT}/402/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:id:itip:{_CP_IR13}\.(\d\d)\.(\d\d)\.({_X}{{1,20}})"),
     lambda m: f"{DL_ROOT}/8006/{_gtin_of(m[1])}{m[2]}{m[3]}/21/{_pct(m[4])}"),
    (re.compile(rf"urn:epc:id:upui:{_CP_IR13}\.({_X}{{1,28}})"),
     lambda m: f"{DL_ROOT}/01/{_gtin_of(m[1])}/235/{_pct(m[2])}"),
    (re.compile(rf"urn:epc:id:pgln:{_CP_REF12}"),
     lambda m: f"{DL_ROOT}/417/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:class:lgtin:{_CP_IR13}\.({_X}{{1,20}})"),
     lambda m: f"{DL_ROOT}/01/{_gtin_of(m[1])}/10/{_pct(m[2])}"),
    (re.compile(rf"urn:epc:idpat:sgtin:{_CP_IR13}\.\*"),
     lambda m: f"{DL_ROOT}/01/{_gtin_of(m[1])}"),
    (re.compile(rf"urn:epc:idpat:grai:{_CP_REF12}\.\*"),
     lambda m: f"{DL_ROOT}/8003/0{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:idpat:gdti:{_CP_REF12}\.\*"),
     lambda m: f"{DL_ROOT}/253/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:idpat:sgcn:{_CP_REF12}\.\*"),
     lambda m: f"{DL_ROOT}/255/{_key_of(m[1])}"),
    (re.compile(rf"urn:epc:idpat:cpi:(\d{{6,12}})\.({_CPREF_CHAR}{{1,24}})\.\*"),
     lambda m: _cpi(m, None)),
    (re.compile(rf"urn:epc:idpat:itip:{_CP_IR13}\.(\d\d)\.(\d\d)\.\*"),
     lambda m: f"{DL_ROOT}/8006/{_gtin_of(m[1])}{m[2]}{m[3]}"),
    (re.compile(rf"urn:epc:idpat:upui:{_CP_IR13}\.\*"),
     lambda m: f"{DL_ROOT}/01/{_gtin_of(m[1])}"),
)  # fmt: skip
#: The schemes above by name (``sgtin``, ``class:lgtin``, ``idpat:sgtin`` ...).
EPC_SCHEMES = tuple(
    (parts[3] if parts[2] == "id" else f"{parts[2]}:{parts[3]}")
    for parts in (p.pattern.split(":") for p, _ in _EPC)
)


def _epc_to_dl(uri: str) -> str | None:
    for pattern, build in _EPC:
        if m := pattern.fullmatch(uri):
            return build(m)
    return None


# DIGITAL LINK -> CANONICAL DIGITAL LINK

_SHORT = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}
_KEYS = "00|01|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018"
_DL_SHAPE = re.compile(
    r"https?://[^/?#]*((?:/[^/?#]*)*?)/("
    + _KEYS
    + "|"
    + "|".join(k for k, v in _SHORT.items() if v not in ("22", "10", "21"))
    + r")/(\d{4}[^/?#]+)((?:/[^/?#]+/[^/?#]+)*)(\?[^#]*)?(#.*)?"
)
# Characters a canonical Digital Link value may hold (what the reference normaliser keeps).
_V = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_CANONICAL = (
    re.compile(r"/00/\d{18}"),
    re.compile(rf"/01/\d{{14}}/21/{_V}{{0,20}}"),
    re.compile(rf"/01/\d{{14}}/10/{_V}{{0,20}}"),
    re.compile(r"/01/\d{14}"),
    re.compile(rf"/01/\d{{14}}/235/{_V}{{0,28}}"),
    re.compile(rf"/253/\d{{13}}{_V}{{0,17}}"),
    re.compile(r"/255/\d{13}\d{0,12}"),
    re.compile(rf"/401/{_V}{{0,30}}"),
    re.compile(r"/402/\d{17}"),
    re.compile(r"/414/\d{13}"),
    re.compile(rf"/414/\d{{13}}/254/{_V}{{0,20}}"),
    re.compile(r"/417/\d{13}"),
    re.compile(rf"/8003/\d{{14}}{_V}{{0,16}}"),
    re.compile(rf"/8004/{_V}{{0,30}}"),
    re.compile(rf"/8006/\d{{18}}/21/{_V}{{0,20}}"),
    re.compile(rf"/8006/\d{{18}}/10/{_V}{{0,20}}"),
    re.compile(r"/8006/\d{18}"),
    re.compile(r"/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/\d{0,12}"),
    re.compile(r"/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}"),
    re.compile(r"/8017/\d{18}"),
    re.compile(r"/8018/\d{18}"),
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
    if key in ("01", "8006"):
        if any(ai == "22" and not re.fullmatch(f"{_V}{{0,20}}", v) for ai, v in qualifiers):
            return None  # not a CPV a Digital Link may carry
        qualifiers = [(ai, v) for ai, v in qualifiers if ai != "22"]  # no CPV
        if [ai for ai, _ in qualifiers] == ["10", "21"]:
            qualifiers = qualifiers[1:]  # the serial alone names the instance
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


_UNPCT = {code: char for char, code in (
    ("!", "%21"), ("(", "%28"), (")", "%29"), ("*", "%2A"), ("+", "%2B"), (",", "%2C"),
    (":", "%3A"),
)}  # fmt: skip


def _unpct(text: str) -> str:
    return re.sub(r"%2[189ABC]|%3A", lambda m: _UNPCT[m[0]], text)


def to_epc_urn(uri: str, company_prefix_length: int) -> str | None:
    """The EPC URI of a GS1 key (any form :func:`to_digital_link` reads), given the length
    of its GS1 company prefix (a Digital Link does not carry it); None if the key has no
    EPC URI (a lot of an ITIP, a CPV) or the length does not fit."""
    dl = to_digital_link(uri)
    n = company_prefix_length
    if dl is None or not 6 <= n <= 12:
        return None
    parts = dl[len(DL_ROOT) + 1 :].split("/")
    key, v, quals = parts[0], parts[1], dict(zip(parts[2::2], parts[3::2], strict=True))

    def cp_ir(gtin: str) -> str:  # GTIN-14 -> CP.IR (indicator first)
        return f"{gtin[1 : 1 + n]}.{gtin[0]}{gtin[1 + n : 13]}"

    def cp_ref(digits: str, total: int) -> str:  # key without check digit -> CP.REF
        return f"{digits[:n]}.{digits[n:total]}"

    if key == "01":
        if "21" in quals:
            return f"urn:epc:id:sgtin:{cp_ir(v)}.{_unpct(quals['21'])}"
        if "10" in quals:
            return f"urn:epc:class:lgtin:{cp_ir(v)}.{_unpct(quals['10'])}"
        if "235" in quals:
            return f"urn:epc:id:upui:{cp_ir(v)}.{_unpct(quals['235'])}"
        return f"urn:epc:idpat:sgtin:{cp_ir(v)}.*"
    if key == "00":
        return f"urn:epc:id:sscc:{v[1 : 1 + n]}.{v[0]}{v[1 + n : 17]}"
    if key == "414":
        ext = _unpct(quals.get("254", "0"))
        return f"urn:epc:id:sgln:{cp_ref(v, 12)}.{ext}"
    simple = {"417": ("pgln", 12), "8018": ("gsrn", 17), "8017": ("gsrnp", 17),
              "402": ("gsin", 16)}  # fmt: skip
    if key in simple:
        return f"urn:epc:id:{simple[key][0]}:{cp_ref(v, simple[key][1])}"
    if key in ("8004", "401"):
        scheme = "giai" if key == "8004" else "ginc"
        return f"urn:epc:id:{scheme}:{v[:n]}.{_unpct(v[n:])}" if len(v) > n else None
    if key in ("8003", "253", "255"):
        head = v[1:13] if key == "8003" else v[:12]
        serial = v[14:] if key == "8003" else v[13:]
        scheme = {"8003": "grai", "253": "gdti", "255": "sgcn"}[key]
        if not serial:
            return f"urn:epc:idpat:{scheme}:{cp_ref(head, 12)}.*"
        return f"urn:epc:id:{scheme}:{cp_ref(head, 12)}.{_unpct(serial)}"
    if key == "8006":
        base = f"{cp_ir(v[:14])}.{v[14:16]}.{v[16:18]}"
        if "21" in quals:
            return f"urn:epc:id:itip:{base}.{_unpct(quals['21'])}"
        return None if quals else f"urn:epc:idpat:itip:{base}.*"
    if key == "8010":
        if len(v) <= n:
            return None
        if "8011" in quals:
            return f"urn:epc:id:cpi:{v[:n]}.{v[n:]}.{quals['8011']}"
        return f"urn:epc:idpat:cpi:{v[:n]}.{v[n:]}.*"
    return None


def canonical_id(uri: str) -> str:
    """``uri`` in canonical Digital Link form if it carries a GS1 key, else unchanged."""
    return to_digital_link(uri) or uri


#: Digital Link keys with a check digit: AI -> (digits up to the check digit, key name).
_CHECKED_KEYS = {
    "00": (18, "SSCC"),
    "01": (14, "GTIN"),
    "253": (13, "GDTI"),
    "255": (13, "GCN"),
    "402": (17, "GSIN"),
    "414": (13, "GLN"),
    "417": (13, "GLN"),
    "8003": (14, "GRAI"),
    "8006": (14, "ITIP"),
    "8017": (18, "GSRN-P"),
    "8018": (18, "GSRN"),
}


def is_gs1_key(uri: str) -> str | None:
    """Check the check digit of the GS1 key in a canonical Digital Link; returns a reason
    if it is wrong, None if it is right or ``uri`` is not a canonical Digital Link."""
    if not uri.startswith(DL_ROOT + "/"):
        return None
    parts = uri[len(DL_ROOT) + 1 :].split("/")
    key, value = parts[0], parts[1] if len(parts) > 1 else ""
    width, what = _CHECKED_KEYS.get(key, (0, ""))
    if not width:
        return None
    digits = value[:width]
    if len(digits) < width or not digits.isdigit():
        return f"{what} {digits!r} is not {width} digits"
    try:
        _checked(digits, what)
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
