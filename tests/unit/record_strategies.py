"""Hypothesis strategies for every core record, shared by the codec and types tests."""

from __future__ import annotations

from hypothesis import strategies as st

from xinlian.types import (
    Block,
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    MerkleProof,
    Receipt,
    SignedTransaction,
    StateProof,
    StateProofStep,
    Transaction,
    TxStatus,
    Validator,
    ValidatorSet,
    Vote,
    VoteType,
)

u64 = st.integers(0, 2**64 - 1)
hashes = st.binary(min_size=32, max_size=32)
blobs = st.binary(max_size=48)
text = st.text(max_size=16)

transactions = st.builds(
    Transaction,
    chain_id=text,
    sender=blobs,
    nonce=u64,
    target=text,
    method=text,
    args=blobs,
    gas_limit=u64,
    expiry=u64,
)
signed_txs = st.builds(SignedTransaction, tx=transactions, signature=blobs)
headers = st.builds(
    BlockHeader,
    chain_id=text,
    height=u64,
    time_ms=u64,
    prev_hash=hashes,
    tx_root=hashes,
    state_root=hashes,
    receipts_root=hashes,
    validators_hash=hashes,
    next_validators_hash=hashes,
    proposer=blobs,
)
blocks = st.builds(Block, header=headers, txs=st.lists(signed_txs, max_size=3))
votes = st.builds(
    Vote,
    chain_id=text,
    type=st.sampled_from([int(VoteType.PREVOTE), int(VoteType.PRECOMMIT)]),
    height=u64,
    round=u64,
    block_hash=st.one_of(st.just(b""), hashes),
)
commits = st.builds(
    Commit,
    height=u64,
    round=u64,
    block_hash=hashes,
    signatures=st.lists(st.builds(CommitSig, validator_index=u64, signature=blobs), max_size=4),
)
events = st.builds(Event, type=text, attributes=st.dictionaries(text, text, max_size=5))
receipts = st.builds(
    Receipt,
    tx_hash=hashes,
    status=st.sampled_from([int(s) for s in TxStatus]),
    gas_used=u64,
    events=st.lists(events, max_size=3),
    error=text,
    output=blobs,
)
validator_sets = st.builds(
    ValidatorSet,
    validators=st.lists(st.builds(Validator, public_key=blobs, power=u64, name=text), max_size=4),
)
merkle_proofs = st.builds(MerkleProof, index=u64, size=u64, siblings=st.lists(hashes, max_size=6))
state_proofs = st.builds(
    StateProof,
    steps=st.lists(
        st.builds(
            StateProofStep,
            nibble=st.integers(0, 15),
            children=st.lists(st.one_of(st.just(b""), hashes), min_size=15, max_size=15),
        ),
        max_size=4,
    ),
    leaf_key_hash=st.one_of(st.just(b""), hashes),
    leaf_value_hash=st.one_of(st.just(b""), hashes),
)

ALL_RECORDS = {
    "Transaction": transactions,
    "SignedTransaction": signed_txs,
    "BlockHeader": headers,
    "Block": blocks,
    "Vote": votes,
    "Commit": commits,
    "Receipt": receipts,
    "Event": events,
    "ValidatorSet": validator_sets,
    "MerkleProof": merkle_proofs,
    "StateProof": state_proofs,
}
