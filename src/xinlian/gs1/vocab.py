"""The Core Business Vocabulary terms EPCIS 2.0 JSON allows as bare words.

The term lists are the ``enum`` lists of the vendored EPCIS 2.0 JSON schema (so the two
cannot drift); each vocabulary's web-URI prefix is the one of the EPCIS 2.0 JSON-LD
context (``cbv:BizStep-``, ``cbv:Disp-``, ``gs1:`` ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "PREFIX",
    "expand_compact",
    "expand_term",
    "schema_document",
    "short_term",
    "standard_prefixes",
    "terms",
]

#: Web-URI prefix of each vocabulary (the schema definition names are the keys).
PREFIX = {
    "bizStep": "https://ref.gs1.org/cbv/BizStep-",
    "disposition": "https://ref.gs1.org/cbv/Disp-",
    "bizTransaction-type": "https://ref.gs1.org/cbv/BTT-",
    "source-dest-type": "https://ref.gs1.org/cbv/SDT-",
    "error-reason": "https://ref.gs1.org/cbv/ER-",
    "measurementType": "https://gs1.org/voc/",
    "sensorAlertType": "https://gs1.org/voc/",
    "component": "https://ref.gs1.org/cbv/Comp-",
}


@cache
def schema_document() -> dict[str, Any]:
    """The vendored EPCIS 2.0 JSON schema (parsed once)."""
    raw = resources.files("xinlian.gs1").joinpath("schema/epcis-json-schema.json").read_text()
    doc: dict[str, Any] = json.loads(raw)
    return doc


@cache
def standard_prefixes() -> dict[str, str]:
    """The prefixes of the vendored EPCIS 2.0 JSON-LD context (``cbv``, ``gs1``,
    ``epcis``, ``cbvmda``, ``rdfs``, ``owl``, ``xsd``, ``dcterms``): prefix -> IRI."""
    raw = resources.files("xinlian.gs1").joinpath("schema/epcis-context.jsonld").read_text()
    context = json.loads(raw)["@context"]
    return {
        k: v
        for k, v in context.items()
        if isinstance(v, str) and v.endswith(("/", "#", ":")) and not v.startswith("@")
    }


def expand_compact(text: str, namespaces: Mapping[str, str]) -> str:
    """A compact IRI ``prefix:local`` expanded with the document's prefixes, else with the
    standard EPCIS context's; any other text unchanged."""
    prefix, sep, local = text.partition(":")
    if not sep or local.startswith("//"):
        return text
    iri = namespaces.get(prefix) or standard_prefixes().get(prefix)
    return iri + local if iri is not None else text


@cache
def terms(vocabulary: str) -> frozenset[str]:
    """The bare words of a vocabulary (a key of :data:`PREFIX`)."""
    definition = schema_document()["definitions"][vocabulary]
    words: set[str] = set()
    for option in definition.get("anyOf", []):
        words.update(option.get("enum", []))
    return frozenset(words)


def expand_term(vocabulary: str, text: str) -> str:
    """``text`` as a web URI if it is a bare word of ``vocabulary``, else unchanged."""
    return PREFIX[vocabulary] + text if text in terms(vocabulary) else text


def short_term(vocabulary: str, uri: str) -> str:
    """The bare word of a CBV web URI or URN of ``vocabulary`` if it is one, else ``uri``."""
    uri = expand_compact(uri, {})
    prefix = PREFIX[vocabulary]
    word = uri[len(prefix) :] if uri.startswith(prefix) else uri
    urn = {
        "bizStep": "urn:epcglobal:cbv:bizstep:",
        "disposition": "urn:epcglobal:cbv:disp:",
        "bizTransaction-type": "urn:epcglobal:cbv:btt:",
        "source-dest-type": "urn:epcglobal:cbv:sdt:",
    }.get(vocabulary)
    if urn is not None and word.startswith(urn):
        word = word[len(urn) :]
    return word if word in terms(vocabulary) else uri
