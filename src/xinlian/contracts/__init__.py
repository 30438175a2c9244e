"""User contracts in Python: a checked, instrumented, metered sandbox and its system app.

A contract is a Python module in a small deterministic subset (see ``checker``), deployed
through the ``contracts`` system app and called through transactions whose target is the
contract's address. ``execution`` hosts the runtime: it hands calls to
:class:`ContractRuntime` with a context that meters gas and scopes state.

Exceptions (both ``apps.CallError``, so a receipt records them)::

    CallError
     ├── ContractRejected   the source was refused at deploy time
     └── ContractFault      the call stopped at run time (limit, require, error)
"""

from xinlian.contracts.app import RUNTIME, ContractsApp
from xinlian.contracts.errors import ContractFault, ContractRejected
from xinlian.contracts.records import (
    NAME,
    ContractMeta,
    MethodAbi,
    contract_address,
    is_contract_address,
)
from xinlian.contracts.runtime import ContractHost, ContractRuntime, compile_source

__all__ = [
    "NAME",
    "RUNTIME",
    "ContractFault",
    "ContractHost",
    "ContractMeta",
    "ContractRejected",
    "ContractRuntime",
    "ContractsApp",
    "MethodAbi",
    "compile_source",
    "contract_address",
    "is_contract_address",
]
