"""Limits and the gas table of the contract runtime.

Every number here is consensus-relevant: nodes that disagree on one disagree on results.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Largest contract source, in UTF-8 bytes.
MAX_SOURCE_BYTES = 48 * 1024
#: Largest str or bytes value a contract may hold.
MAX_BYTES = 256 * 1024
#: Most items in one list, tuple or dict.
MAX_ITEMS = 65536
#: Largest integer, in bits (sign excluded).
MAX_INT_BITS = 4096
#: Deepest nesting of containers compared, printed, stored or returned.
MAX_NESTING = 32
#: Deepest stack of contract function frames in one transaction (all contracts).
MAX_CALL_DEPTH = 64
#: Deepest chain of contract-to-contract calls.
MAX_CONTRACT_CALLS = 8
#: Longest identifier (storage names, method names, event names).
MAX_NAME = 64
#: Most storage declarations, functions or exported methods in one contract.
MAX_DECLARATIONS = 256


@dataclass(frozen=True, slots=True)
class ContractGas:
    """Gas prices of contract work (storage reads and writes use the chain's schedule)."""

    step: int = 1  # per AST node of a straight-line block, charged on entering the block
    call: int = 10  # per contract function call (on entry)
    method: int = 4  # per call of a method of a built-in value (str, list, dict, ...)
    iteration: int = 1  # per item produced by a comprehension or consumed by a builtin
    byte: int = 1  # per 16 bytes of str/bytes produced
    item: int = 1  # per item of a list, tuple or dict produced
    int_word: int = 1  # per 64-bit word of an integer above 64 bits produced
    deep: int = 4  # per item visited when checking nesting (compare, print, sort)
    deploy_byte: int = 100  # per byte of source checked and compiled at deploy
    load: int = 2000  # per contract module instantiated for a call
    contract_call: int = 1000  # per call to another contract
    app_call: int = 500  # per call to a built-in app


CGAS = ContractGas()
