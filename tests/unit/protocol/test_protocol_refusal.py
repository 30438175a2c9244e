"""The refusal codes: one wire string and one HTTP status each; unknown codes still parse."""

from __future__ import annotations

from xinlian.protocol import HTTP_STATUS, Refusal


def test_every_refusal_has_one_status() -> None:
    assert set(HTTP_STATUS) == set(Refusal)
    assert all(400 <= HTTP_STATUS[r] < 600 for r in Refusal)
    assert Refusal.EXPIRED.status == 400
    assert Refusal.UNKNOWN_SENDER.status == 403
    assert Refusal.INACTIVE_SENDER.status == 403
    assert Refusal.GAS_LIMIT_OUT_OF_BOUNDS.status == 400
    assert Refusal.FULL.status == 503
    assert Refusal.DUPLICATE.status == Refusal.NONCE_TAKEN.status == 409


def test_the_wire_strings_clients_already_know_are_unchanged() -> None:
    known = {
        "too_large", "malformed", "wrong_chain", "bad_signature", "duplicate",
        "nonce_too_low", "nonce_too_high", "nonce_taken", "sender_limit", "full",
        "unknown_target", "permission_denied", "args_too_large", "invalid_args", "refused",
    }  # fmt: skip
    assert known <= {r.value for r in Refusal}
    new = {r.value for r in Refusal} - known
    assert new == {"expired", "gas_limit_out_of_bounds", "unknown_sender", "inactive_sender"}


def test_parse_keeps_unknown_strings() -> None:
    assert Refusal.parse("expired") is Refusal.EXPIRED
    assert Refusal.parse("expired") == "expired"  # a str enum: compares with the wire string
    assert Refusal.parse("quota_exceeded") == "quota_exceeded"  # a newer node's code
    assert not isinstance(Refusal.parse("quota_exceeded"), Refusal)
    assert Refusal.parse("") == ""
