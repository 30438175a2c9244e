"""Fuzz the API from its own OpenAPI description: no 5xx, responses match the spec."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from xinlian.api.spec import openapi_spec

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
