"""Rules and record formats that nodes and clients both apply, written once.

A client checks what a node produces: block ids, validator-set hashes, key files,
contract addresses, receipts, refusal reasons. Both sides import these rules from here,
never from each other, so a client can never verify something a node does not produce.
This package sits above the base (``types``, ``codec``, ``crypto``, ``gs1``) and below
everything that uses it (``ledger``, ``state``, ``apps``, ``sdk``, ``node``, ``api``); it
does no I/O beyond reading the files a caller names.

Errors: every failure here is a :class:`ProtocolError`.
"""

from xinlian.protocol.errors import ProtocolError
from xinlian.protocol.refusal import HTTP_STATUS, Refusal

__all__ = ["HTTP_STATUS", "ProtocolError", "Refusal"]
