"""The governance app: proposals passing with more than 2/3 of member organisations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps import governance, identity
from xinlian.codec import decode, encode_args
from xinlian.execution import InvalidBlock, Mode
from xinlian.types import Event, TxStatus

ACTIONS = (
    "['add_org', 'add_validator', 'approve_contract_upgrade', 'grant_role', 'remove_org', "
    "'remove_validator', 'revoke_role', 'set_power']"
)


def add_org_args(helpers: SimpleNamespace, org_id: str, admin: str) -> dict[str, Any]:
    params = {
        "id": org_id,
        "name": f"Org {org_id}",
        "admin_public_key": helpers.keypair(admin).public_key,
        "admin_name": admin,
    }
    return {"action": "add_org", "params": encode_args(params)}


def propose(world: Any, who: str, action: str, params: dict[str, Any]) -> Any:
    return world.call(
        who, "governance", "propose", {"action": action, "params": encode_args(params)}
    )


def vote(world: Any, who: str, pid: int) -> Any:
    return world.call(who, "governance", "vote", {"id": pid})


def proposal(world: Any, pid: int) -> governance.Proposal | None:
    return world.query("governance", "get_proposal", {"id": pid})


def orgs(world: Any) -> list[str]:
    return decode(world.read(b"governance/orgs"), list[str])


def votes_needed(n: int) -> int:
    return next(v for v in range(1, n + 1) if v * 3 > n * 2)


# ---------------------------------------------------------------------------------------
# the threshold
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "needed"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (6, 5), (7, 5)])
def test_add_org_passes_with_more_than_two_thirds(
    helpers: SimpleNamespace, n: int, needed: int
) -> None:
    assert votes_needed(n) == needed
    ids = [f"o{i}" for i in range(n)]
    world = helpers.World(
        helpers.make_genesis(orgs=ids, accounts=[(f"admin_{o}", o, ["admin"]) for o in ids])
    )
    receipt = world.call("admin_o0", "governance", "propose", add_org_args(helpers, "new", "nadm"))
    assert receipt.status == TxStatus.OK, receipt.error
    pid = decode(receipt.output, int)
    assert pid == 1
    statuses = ["passed" if needed == 1 else "open"]
    for voter in ids[1:needed]:
        assert world.org("new") is None
        r = vote(world, f"admin_{voter}", pid)
        assert r.status == TxStatus.OK, r.error
        statuses.append(decode(r.output, str))
    assert statuses == ["open"] * (needed - 1) + ["passed"]
    assert world.org("new") == identity.Org("new", "Org new", True)
    assert orgs(world) == sorted([*ids, "new"])
    p = proposal(world, pid)
    assert p.status == "passed"
    assert p.yes == sorted(ids[:needed])
    if needed < n:  # a late vote on a decided proposal is refused
        late = vote(world, f"admin_{ids[needed]}", pid)
        assert late.status == TxStatus.INVALID_ARGS
        assert late.error == f"proposal {pid} is passed"


def test_three_orgs_two_votes_are_not_enough(world: Any, helpers: SimpleNamespace) -> None:
    r = world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    assert r.events == [
        Event("governance.proposed", {"id": "1", "action": "add_org", "org": "a"}),
        Event("governance.voted", {"id": "1", "org": "a", "status": "open"}),
    ]
    r = vote(world, "admin_b", 1)
    assert decode(r.output, str) == "open"
    assert world.org("d") is None
    r = vote(world, "admin_c", 1)
    assert decode(r.output, str) == "passed"
    assert r.events == [
        Event("governance.voted", {"id": "1", "org": "c", "status": "passed"}),
        Event("governance.passed", {"id": "1", "action": "add_org"}),
    ]
    # the new organisation's admin exists and can act within its organisation
    admin_d = helpers.address("admin_d")
    assert world.account(admin_d) == identity.Account(
        admin_d, helpers.keypair("admin_d").public_key, "admin_d", "d", ["admin"], True
    )
    reg = world.call(
        "admin_d",
        "identity",
        "register_account",
        {"public_key": helpers.keypair("dave").public_key, "name": "dave", "roles": ["writer"]},
    )
    assert reg.status == TxStatus.OK, reg.error
    assert world.account(helpers.address("dave")).org == "d"
    assert world.call("dave", "kv", "put", {"key": "k", "value": "v"}).status == TxStatus.OK


def test_new_org_votes_in_later_proposals(world: Any, helpers: SimpleNamespace) -> None:
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    vote(world, "admin_b", 1)
    vote(world, "admin_c", 1)
    # 4 members now: 3 votes are needed, and d's vote counts
    r = world.call("admin_d", "governance", "propose", add_org_args(helpers, "e", "admin_e"))
    assert decode(r.output, int) == 2
    assert decode(vote(world, "admin_a", 2).output, str) == "open"
    assert decode(vote(world, "admin_b", 2).output, str) == "passed"
    assert orgs(world) == ["a", "b", "c", "d", "e"]


# ---------------------------------------------------------------------------------------
# votes
# ---------------------------------------------------------------------------------------


def test_double_vote_is_refused(world: Any, helpers: SimpleNamespace) -> None:
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    r = vote(world, "admin_a", 1)
    assert r.status == TxStatus.INVALID_ARGS
    assert r.error == "organisation 'a' already voted"
    assert vote(world, "admin_b", 1).status == TxStatus.OK
    r = vote(world, "admin_b", 1)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "organisation 'b' already voted")
    assert proposal(world, 1).yes == ["a", "b"]
    assert world.nonce("admin_b") == 2


def test_one_vote_per_organisation_not_per_admin(helpers: SimpleNamespace) -> None:
    accounts = [*helpers.DEFAULT_ACCOUNTS, ("admin2_a", "a", ("admin",))]
    world = helpers.World(helpers.make_genesis(accounts=accounts))
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    r = vote(world, "admin2_a", 1)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "organisation 'a' already voted")


def test_vote_on_missing_proposal(world: Any) -> None:
    r = vote(world, "admin_a", 42)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "no proposal 42")


def test_only_admins_take_part(world: Any, helpers: SimpleNamespace) -> None:
    r = world.call("writer_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error.endswith("lacks role 'admin' for governance.propose")
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    r = vote(world, "writer_b", 1)
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error.endswith("lacks role 'admin' for governance.vote")


def test_proposal_expires(world: Any, helpers: SimpleNamespace) -> None:
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    created = world.height
    env = world.tx("admin_b", "governance", "vote", {"id": 1})
    (r,) = world.run([env], height=created + governance.VOTING_PERIOD + 1).receipts
    assert r.status == TxStatus.OK
    assert decode(r.output, str) == "expired"
    assert proposal(world, 1).status == "expired"
    assert proposal(world, 1).yes == ["a"]
    r = vote(world, "admin_c", 1)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "proposal 1 is expired")
    assert world.org("d") is None


def test_vote_on_last_day_counts(world: Any, helpers: SimpleNamespace) -> None:
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    created = world.height
    env = world.tx("admin_b", "governance", "vote", {"id": 1})
    (r,) = world.run([env], height=created + governance.VOTING_PERIOD).receipts
    assert decode(r.output, str) == "open"


# ---------------------------------------------------------------------------------------
# proposals
# ---------------------------------------------------------------------------------------


def test_unknown_action(world: Any) -> None:
    r = world.call("admin_a", "governance", "propose", {"action": "bogus", "params": b""})
    assert r.status == TxStatus.INVALID_ARGS
    assert r.error == f"unknown action 'bogus'; actions are {ACTIONS}"


def test_bad_params(world: Any) -> None:
    r = propose(world, "admin_a", "add_org", {"id": "d"})
    assert r.status == TxStatus.INVALID_ARGS
    assert r.error.startswith("bad params for add_org: cannot decode AddOrgParams: ")
    assert "missing required field" in r.error
    assert world.read(b"governance/next_id") is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"id": "a"}, "organisation 'a' exists"),
        ({"id": "not-valid"}, "organisation id must be 1-64 letters, digits or _"),
        ({"id": ""}, "organisation id must be 1-64 letters, digits or _"),
        ({"id": "x" * 65}, "organisation id must be 1-64 letters, digits or _"),
        ({"admin_public_key": b"\x01" * 31}, "admin key must be a ed25519 public key"),
    ],
)
def test_add_org_validation(
    world: Any, helpers: SimpleNamespace, params: dict[str, Any], error: str
) -> None:
    full = {
        "id": "d",
        "name": "D",
        "admin_public_key": helpers.keypair("admin_d").public_key,
        "admin_name": "admin_d",
        **params,
    }
    r = propose(world, "admin_a", "add_org", full)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, error)


def test_remove_org(world: Any, helpers: SimpleNamespace) -> None:
    r = propose(world, "admin_a", "remove_org", {"id": "c"})
    assert r.status == TxStatus.OK, r.error
    assert decode(vote(world, "admin_b", 1).output, str) == "open"
    assert decode(vote(world, "admin_c", 1).output, str) == "passed"
    assert world.org("c") == identity.Org("c", "Org C", False)
    assert orgs(world) == ["a", "b"]
    # the removed organisation's accounts can no longer transact
    admin_c = helpers.address("admin_c")
    env = world.tx("admin_c", "kv", "put", {"key": "k", "value": "v"})
    reason = f"sender {admin_c} belongs to organisation 'c', which is not an active member"
    with pytest.raises(InvalidBlock, match=reason):
        world.execute([env])
    assert world.execute([env], Mode.BUILD).dropped == [(env, reason)]
    # two members left: both must vote
    world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "admin_d"))
    assert proposal(world, 2).status == "open"
    assert decode(vote(world, "admin_b", 2).output, str) == "passed"


def test_remove_unknown_or_removed_org(world: Any) -> None:
    r = propose(world, "admin_a", "remove_org", {"id": "zz"})
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "no active organisation 'zz'")
    propose(world, "admin_a", "remove_org", {"id": "c"})
    vote(world, "admin_b", 1)
    vote(world, "admin_c", 1)
    r = propose(world, "admin_a", "remove_org", {"id": "c"})
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "no active organisation 'c'")


def test_add_org_refuses_an_existing_account_as_admin(world: Any, helpers: SimpleNamespace) -> None:
    """The new organisation's admin key must be new: otherwise passing the proposal would
    silently move an existing account (here org b's writer) into the new organisation."""
    r = world.call("admin_a", "governance", "propose", add_org_args(helpers, "d", "writer_b"))
    assert r.status == TxStatus.INVALID_ARGS
    assert r.error == f"admin key is already account {helpers.address('writer_b')}"
    assert world.account(helpers.address("writer_b")).org == "b"


def test_grant_and_revoke_governed_role(world: Any, helpers: SimpleNamespace) -> None:
    writer_b = helpers.address("writer_b")
    propose(world, "admin_a", "grant_role", {"address": writer_b, "role": "auditor"})
    vote(world, "admin_b", 1)
    assert world.account(writer_b).roles == ["writer"]
    vote(world, "admin_c", 1)
    assert world.account(writer_b).roles == ["auditor", "writer"]
    propose(world, "admin_a", "revoke_role", {"address": writer_b, "role": "writer"})
    vote(world, "admin_b", 2)
    vote(world, "admin_c", 2)
    assert world.account(writer_b).roles == ["auditor"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"role": "boss"}, "unknown role 'boss'"),
        ({"address": "00" * 20}, f"no account {'00' * 20}"),
    ],
)
def test_role_action_validation(
    world: Any, helpers: SimpleNamespace, params: dict[str, Any], error: str
) -> None:
    full = {"address": helpers.address("writer_b"), "role": "auditor", **params}
    r = propose(world, "admin_a", "grant_role", full)
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, error)


def test_get_proposal_query(world: Any, helpers: SimpleNamespace) -> None:
    args = add_org_args(helpers, "d", "admin_d")
    world.call("admin_a", "governance", "propose", args)
    assert proposal(world, 1) == governance.Proposal(
        1, helpers.address("admin_a"), "a", "add_org", args["params"], ["a"], "open", 1
    )
    assert proposal(world, 2) is None


def test_proposal_ids_increase(world: Any, helpers: SimpleNamespace) -> None:
    ids = []
    for org in ("d", "e", "f"):
        r = world.call("admin_a", "governance", "propose", add_org_args(helpers, org, org))
        ids.append(decode(r.output, int))
    assert ids == [1, 2, 3]


def test_a_proposal_that_became_invalid_fails_instead_of_applying(
    helpers: SimpleNamespace,
) -> None:
    ids = ["o0", "o1", "o2", "o3"]
    world = helpers.World(
        helpers.make_genesis(orgs=ids, accounts=[(f"admin_{o}", o, ["admin"]) for o in ids])
    )
    # Two proposals to add the same organisation, with different admin keys.
    first = decode(
        world.call(
            "admin_o0", "governance", "propose", add_org_args(helpers, "dup", "adm1")
        ).output,
        int,
    )
    second = decode(
        world.call(
            "admin_o1", "governance", "propose", add_org_args(helpers, "dup", "adm2")
        ).output,
        int,
    )
    for voter in ("admin_o1", "admin_o2"):
        assert vote(world, voter, first).status == TxStatus.OK
    assert proposal(world, first).status == "passed"
    # Five members now: the second proposal needs four votes.
    for voter in ("admin_o0", "admin_o2"):
        assert decode(vote(world, voter, second).output, str) == "open"
    r = vote(world, "admin_o3", second)
    assert r.status == TxStatus.OK, r.error
    assert decode(r.output, str) == "failed"
    assert proposal(world, second).status == "failed"
    assert any(
        e.type == "governance.failed" and "exists" in e.attributes["reason"] for e in r.events
    )
    # The first proposal's admin is still the organisation's admin.
    assert world.org("dup") == identity.Org("dup", "Org dup", True)


# ---------------------------------------------------------------------------------------
# validators
# ---------------------------------------------------------------------------------------


def validators(world: Any) -> list[tuple[str, int]]:
    entries = governance.load_validators(world.read(governance.VALIDATORS_KEY))
    return [(e.name, e.power) for e in entries]


def pass_proposal(world: Any, action: str, params: dict[str, Any]) -> Any:
    r = propose(world, "admin_a", action, params)
    assert r.status == TxStatus.OK, r.error
    pid = decode(r.output, int)
    assert vote(world, "admin_b", pid).status == TxStatus.OK
    last = vote(world, "admin_c", pid)
    assert last.status == TxStatus.OK, last.error
    return last


def test_genesis_validators_are_recorded_with_their_transport_key(helpers: SimpleNamespace) -> None:
    world = helpers.World()
    (entry,) = governance.load_validators(world.read(governance.VALIDATORS_KEY))
    # An ed25519 chain without a p2p_key uses the signing key for transport.
    assert entry.p2p_key == entry.public_key == helpers.keypair("val0").public_key


def test_add_set_power_and_remove_a_validator(world: Any, helpers: SimpleNamespace) -> None:
    new = helpers.keypair("val1").public_key
    r = pass_proposal(
        world,
        "add_validator",
        {"public_key": new, "p2p_key": b"\x07" * 32, "power": 5, "name": "v1"},
    )
    assert decode(r.output, str) == "passed"
    assert validators(world) == [("val0", 10), ("v1", 5)]
    assert any(e.type == "governance.validators" for e in r.events)
    pass_proposal(world, "set_power", {"public_key": new, "power": 20})
    assert validators(world) == [("val0", 10), ("v1", 20)]
    old = helpers.keypair("val0").public_key
    pass_proposal(world, "remove_validator", {"public_key": old})
    assert validators(world) == [("v1", 20)]


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        (
            "add_validator",
            {"public_key": b"\x01" * 5, "p2p_key": b"\x02" * 32, "power": 1, "name": "x"},
            "must be a ed25519 public key",
        ),
        (
            "add_validator",
            {"public_key": b"\x01" * 32, "p2p_key": b"\x02" * 31, "power": 1, "name": "x"},
            "p2p_key must be a 32-byte",
        ),
        (
            "add_validator",
            {"public_key": b"\x01" * 32, "p2p_key": b"\x02" * 32, "power": 0, "name": "x"},
            "power must be between",
        ),
        (
            "add_validator",
            {"public_key": b"\x01" * 32, "p2p_key": b"\x02" * 32, "power": 1, "name": ""},
            "name must be 1-64",
        ),
        ("remove_validator", {"public_key": b"\x09" * 32}, "no validator with this key"),
        ("set_power", {"public_key": b"\x09" * 32, "power": 3}, "no validator with this key"),
    ],
)
def test_bad_validator_proposals_are_refused(
    world: Any, action: str, params: dict[str, Any], message: str
) -> None:
    r = propose(world, "admin_a", action, params)
    assert r.status == TxStatus.INVALID_ARGS
    assert message in r.error
    assert validators(world) == [("val0", 10)]


def test_the_last_validator_and_duplicate_keys_are_refused(
    world: Any, helpers: SimpleNamespace
) -> None:
    val0 = helpers.keypair("val0").public_key
    r = propose(world, "admin_a", "remove_validator", {"public_key": val0})
    assert r.status == TxStatus.INVALID_ARGS and "last validator" in r.error
    r = propose(
        world,
        "admin_a",
        "add_validator",
        {"public_key": val0, "p2p_key": b"\x03" * 32, "power": 1, "name": "again"},
    )
    assert r.status == TxStatus.INVALID_ARGS and "already a validator" in r.error
    other = helpers.keypair("val2").public_key
    r = propose(
        world,
        "admin_a",
        "add_validator",
        {"public_key": other, "p2p_key": val0, "power": 1, "name": "dup"},
    )
    assert r.status == TxStatus.INVALID_ARGS and "p2p_key belongs to another" in r.error
