"""Offline verification of evidence receipts: a synthetic four-validator chain, every
check, every tampered part, and both crypto suites."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest

from xinlian.codec import encode, encode_args
from xinlian.crypto import KeyPair, get_suite
from xinlian.crypto.merkle import merkle_proof, merkle_root
from xinlian.sdk import VerificationError, XinlianError
from xinlian.sdk.evidence import (
    CHECKS,
    EvidenceReceipt,
    anchor_calls,
    hash_file,
    load_receipt,
    verify_receipt,
)
from xinlian.sdk.verify import genesis_hash, validator_set_from_genesis
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    Receipt,
    SignedTransaction,
    Transaction,
    TxStatus,
    Vote,
    VoteType,
)
from xinlian.types.genesis import Genesis, GenesisAccount, GenesisOrg, GenesisValidator

FILE = b"judgment of the court, page 1\n" * 1000


def _key(suite_name: str, name: str) -> KeyPair:
    return get_suite(suite_name).keypair_from_private(hashlib.sha256(name.encode()).digest())


def make_chain(
    suite_name: str = "ed25519", signers: tuple[int, ...] = (0, 1, 2), status: int = 0
) -> tuple[Genesis, dict[str, Any]]:
    """A genesis with four validators (power 1 each) and the receipt of a digest anchored
    at height 5, its block signed by ``signers``."""
    suite = get_suite(suite_name)
    vals = [_key(suite_name, f"val{i}") for i in range(4)]
    writer = _key(suite_name, "writer")
    genesis = Genesis(
        chain_id="evidence-test",
        suite=suite_name,
        time_ms=1_700_000_000_000,
        orgs=[GenesisOrg("a", "Org A")],
        accounts=[GenesisAccount("writer", writer.public_key.hex(), "a", ["writer"])],
        # A transport key of its own, as a node requires on a non-Ed25519 chain.
        validators=[
            GenesisValidator(f"val{i}", k.public_key.hex(), 1, p2p_key=bytes([i + 1] * 32).hex())
            for i, k in enumerate(vals)
        ],
    )
    digest = suite.hash(FILE)
    digests = [suite.hash(b"other %d" % i) for i in range(6)]
    digests.insert(3, digest)
    args = {"category": "judicial", "digests": digests, "meta": {"court": "HZ"}, "parent": None}
    args["submitter_ref"] = "case 17"
    tx = Transaction("evidence-test", writer.public_key, 0, "evidence", "anchor",
                     encode_args(args), 5_000_000, 100)  # fmt: skip
    stx = SignedTransaction(tx, suite.sign(writer.private_key, encode(tx)))
    raw = encode(stx)
    tx_hash = suite.hash(raw)
    root = merkle_root(suite.hash, digests)
    other_tx = suite.hash(b"another tx")
    event = Event("evidence.anchored", {"batch_root": root.hex(), "count": "7", "new": "7"})
    receipt = Receipt(tx_hash, status, 12345, [event] if status == 0 else [], "", b"")
    other_receipt = encode(Receipt(other_tx, 0, 1, [], "", b""))
    vset = validator_set_from_genesis(genesis)
    header = BlockHeader(
        chain_id="evidence-test",
        height=5,
        time_ms=1_700_000_500_000,
        prev_hash=b"\x11" * 32,
        tx_root=merkle_root(suite.hash, [other_tx, tx_hash]),
        state_root=b"\x22" * 32,
        receipts_root=merkle_root(suite.hash, [other_receipt, encode(receipt)]),
        validators_hash=suite.hash(encode(vset)),
        next_validators_hash=suite.hash(encode(vset)),
        proposer=vals[0].public_key,
    )
    block_hash = suite.hash(encode(header))
    vote = encode(Vote("evidence-test", int(VoteType.PRECOMMIT), 5, 0, block_hash))
    commit = Commit(
        5, 0, block_hash, [CommitSig(i, suite.sign(vals[i].private_key, vote)) for i in signers]
    )
    r = EvidenceReceipt(
        chain_id="evidence-test",
        suite=suite_name,
        genesis_hash=genesis_hash(genesis),
        digest=digest,
        batch_root=root,
        batch_proof=merkle_proof(suite.hash, digests, 3),
        tx_raw=raw,
        tx_hash=tx_hash,
        height=5,
        tx_index=1,
        tx_proof=merkle_proof(suite.hash, [other_tx, tx_hash], 1),
        receipt=receipt,
        receipt_proof=merkle_proof(suite.hash, [other_receipt, encode(receipt)], 1),
        block_hash=block_hash,
        header=header,
        commit=commit,
        validators=vset,
    )
    return genesis, r.to_json()


@pytest.fixture(scope="module")
def chain() -> tuple[Genesis, dict[str, Any]]:
    return make_chain()


def fails(check: str, doc: dict[str, Any], genesis: Genesis, data: bytes = FILE) -> None:
    assert check in CHECKS
    with pytest.raises(VerificationError, match=f"^check {check} failed"):
        verify_receipt(doc, genesis, data)


@pytest.mark.parametrize("suite_name", ["ed25519", "sm"])
def test_valid_receipt_verifies(suite_name: str, tmp_path: Path) -> None:
    genesis, doc = make_chain(suite_name)
    got = verify_receipt(doc, genesis, FILE)
    assert got.height == 5 and got.time_ms == 1_700_000_500_000
    assert got.batch_index == 3 and got.batch_size == 7
    assert got.category == "judicial" and got.submitter_ref == "case 17"
    assert got.meta == {"court": "HZ"} and (got.signed_power, got.total_power) == (3, 4)
    # The file by path (streamed), the digest itself, the receipt as a file, the genesis as a file.
    path = tmp_path / "judgment.txt"
    path.write_bytes(FILE)
    receipt_path = tmp_path / "r.json"
    receipt_path.write_bytes(load_receipt(doc).dumps())
    genesis_path = tmp_path / "genesis.json"
    import msgspec

    genesis_path.write_bytes(msgspec.json.encode(genesis))
    assert verify_receipt(receipt_path, genesis_path, path).digest == got.digest
    assert verify_receipt(doc, genesis, digest=got.digest).height == 5
    assert hash_file(path, suite_name) == get_suite(suite_name).hash(FILE)


def test_receipt_round_trips_through_json(chain: tuple[Genesis, dict[str, Any]]) -> None:
    _, doc = chain
    parsed = load_receipt(doc)
    assert parsed.to_json() == doc
    assert load_receipt(parsed.dumps()) == parsed
    assert doc["version"] == 2


def test_exactly_one_subject(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    with pytest.raises(XinlianError, match="exactly one"):
        verify_receipt(doc, genesis)


def test_tampered_file_byte(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    data = bytearray(FILE)
    data[1234] ^= 1
    fails("file digest", doc, genesis, bytes(data))


def test_tampered_batch_path_node(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    node = bytearray.fromhex(bad["batch"]["proof"]["siblings"][1])
    node[0] ^= 1
    bad["batch"]["proof"]["siblings"][1] = node.hex()
    fails("batch path", bad, genesis)
    moved = copy.deepcopy(doc)
    moved["batch"]["proof"]["index"] = 2
    fails("batch path", moved, genesis)


def test_tampered_batch_root_everywhere_but_the_tx(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    # A forged batch containing the digest: the path is consistent, the transaction is not.
    suite = get_suite("ed25519")
    digest = bytes.fromhex(doc["digest"])
    forged = [digest, suite.hash(b"x")]
    bad = copy.deepcopy(doc)
    bad["batch"]["root"] = merkle_root(suite.hash, forged).hex()
    proof = merkle_proof(suite.hash, forged, 0)
    bad["batch"]["proof"] = {"index": 0, "size": 2, "siblings": [s.hex() for s in proof.siblings]}
    fails("transaction", bad, genesis)


def test_tampered_transaction(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    raw = bytearray.fromhex(bad["transaction"]["raw"])
    raw[-70] ^= 1
    bad["transaction"]["raw"] = raw.hex()
    fails("transaction", bad, genesis)


def test_tampered_tx_path_node(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["transaction"]["proof"]["siblings"][0] = "00" * 32
    fails("tx proof", bad, genesis)


@pytest.mark.parametrize("status", [int(TxStatus.FAILED), int(TxStatus.OUT_OF_GAS)])
def test_tampered_receipt_status(chain: tuple[Genesis, dict[str, Any]], status: int) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["receipt"]["record"]["status"] = status
    fails("receipt", bad, genesis)


def test_failed_transaction_receipt_is_refused() -> None:
    genesis, doc = make_chain(status=int(TxStatus.FAILED))
    fails("receipt", doc, genesis)


def test_tampered_receipt_event_and_path(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["receipt"]["record"]["gas_used"] = 1
    fails("receipt proof", bad, genesis)
    bad = copy.deepcopy(doc)
    bad["receipt"]["record"]["events"][0]["attributes"]["batch_root"] = "00" * 32
    fails("receipt", bad, genesis)
    bad = copy.deepcopy(doc)
    bad["receipt"]["proof"]["siblings"][0] = "ab" * 32
    fails("receipt proof", bad, genesis)


@pytest.mark.parametrize(("field", "value"), [("time_ms", 1), ("state_root", "33" * 32)])
def test_tampered_header_field(
    chain: tuple[Genesis, dict[str, Any]], field: str, value: Any
) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["block"]["header"][field] = value
    fails("header", bad, genesis)


def test_tampered_header_with_recomputed_block_hash(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = load_receipt(doc)
    suite = get_suite("ed25519")
    import msgspec

    header = msgspec.structs.replace(bad.header, time_ms=1)
    new_hash = suite.hash(encode(header))
    forged = msgspec.structs.replace(bad.commit, block_hash=new_hash)
    doc2 = EvidenceReceipt(
        **{
            **{f: getattr(bad, f) for f in bad.__dataclass_fields__},
            "header": header,
            "block_hash": new_hash,
            "commit": forged,
        }
    ).to_json()
    fails("commit signatures", doc2, genesis)


def test_tampered_tx_root(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["block"]["header"]["tx_root"] = "44" * 32
    fails("tx proof", bad, genesis)


def test_tampered_signature(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    sig = bytearray.fromhex(bad["block"]["commit"]["signatures"][1]["signature"])
    sig[5] ^= 1
    bad["block"]["commit"]["signatures"][1]["signature"] = sig.hex()
    fails("commit signatures", bad, genesis)


def test_duplicate_signer_is_refused(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    sigs = bad["block"]["commit"]["signatures"]
    sigs[2] = sigs[1]
    fails("commit signatures", bad, genesis)


def test_two_of_four_is_not_enough() -> None:
    genesis, doc = make_chain(signers=(0, 3))
    with pytest.raises(VerificationError, match="more than two thirds"):
        verify_receipt(doc, genesis, FILE)
    genesis, doc = make_chain(signers=(0, 1, 2, 3))
    assert verify_receipt(doc, genesis, FILE).signed_power == 4


def test_tampered_validator_set(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    bad["validators"][3]["power"] = 100
    fails("validator set", bad, genesis)


def test_a_self_consistent_foreign_validator_set_is_refused(
    chain: tuple[Genesis, dict[str, Any]],
) -> None:
    # An attacker's own chain with the same chain id: everything is consistent but the
    # signers are not the genesis validators.
    genesis, _ = chain
    other_genesis, forged = make_chain()
    forged["validators"][0]["name"] = "mallory"
    del other_genesis
    fails("validator set", forged, genesis)


def test_wrong_genesis(chain: tuple[Genesis, dict[str, Any]]) -> None:
    genesis, doc = chain
    import msgspec

    other = msgspec.structs.replace(genesis, time_ms=genesis.time_ms + 1)
    fails("genesis", doc, other)
    renamed = msgspec.structs.replace(genesis, chain_id="another")
    fails("genesis", doc, renamed)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=3),
        lambda d: d.pop("block"),
        lambda d: d["batch"].update(root="zz"),
        lambda d: d["transaction"].update(height=-1),
    ],
)
def test_malformed_receipts(chain: tuple[Genesis, dict[str, Any]], mutate: Any) -> None:
    genesis, doc = chain
    bad = copy.deepcopy(doc)
    mutate(bad)
    fails("format", bad, genesis)


def test_anchor_calls_split_by_tx_size() -> None:
    digests = [hashlib.sha256(b"%d" % i).digest() for i in range(5000)]
    calls = anchor_calls(digests + digests[:10], category="other", max_tx_bytes=65536)
    sizes = [len(c.args["digests"]) for c in calls]  # type: ignore[index]
    assert sum(sizes) == 5000 and len(calls) == 3
    assert all(len(encode_args(dict(c.args))) < 65536 - 600 for c in calls)  # type: ignore[arg-type]
    assert all(c.gas_limit is not None and c.gas_limit <= 10_000_000 for c in calls)
    with pytest.raises(XinlianError, match="unknown category"):
        anchor_calls(digests, category="bogus")
    with pytest.raises(XinlianError, match=r"digests\[1\] is not a 32-byte digest"):
        anchor_calls([digests[0], b"short"], category="other")


def test_anchor_calls_respect_the_app_limit_with_default_chain_limits() -> None:
    from xinlian.apps.evidence import MAX_DIGESTS
    from xinlian.types.genesis import ChainParams

    params = ChainParams()
    digests = [hashlib.sha256(b"%d" % i).digest() for i in range(250_001)]
    calls = anchor_calls(
        digests, category="other", max_tx_bytes=params.max_tx_bytes,
        max_gas=params.max_gas_per_tx,
    )  # fmt: skip
    sizes = [len(c.args["digests"]) for c in calls]  # type: ignore[index]
    assert sizes == [MAX_DIGESTS, MAX_DIGESTS, 50_001]
    assert all(c.gas_limit == min(params.max_gas_per_tx, c.gas_limit) for c in calls)
    assert calls[0].gas_limit is not None and calls[0].gas_limit > 177_000_000
