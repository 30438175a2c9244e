"""Fuzz the API from its own OpenAPI description: no 5xx, responses match the spec."""

from __future__ import annotations

from typing import Any

import schemathesis
from asn1crypto import tsp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from xinlian.api.spec import openapi_spec


# RFC 3161 requests: random bytes, and well-formed TimeStampReqs (SHA-256 imprint of "x",
# which is not anchored; SHA-1, refused) so that the parser's success path is fuzzed too.
def _tsq(algorithm: str, size: int) -> bytes:
    imprint = {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": b"x" * size}
    return bytes(tsp.TimeStampReq({"version": "v1", "message_imprint": imprint}).dump())


schemathesis.openapi.media_type(
    "application/timestamp-query",
    st.one_of(st.binary(max_size=300), st.sampled_from([_tsq("sha256", 32), _tsq("sha1", 20)])),
)
schema = schemathesis.openapi.from_dict(openapi_spec())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_spec(case: schemathesis.Case, live_node: Any) -> None:
    # Schema-valid bodies may still be refused on content (a hex string that is not a signed
    # transaction), so "positive data acceptance" does not apply; every other check does,
    # including "no 5xx" and "response matches the declared schema and status codes".
    case.call_and_validate(
        base_url=live_node.url,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
