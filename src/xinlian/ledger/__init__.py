"""The ledger: blocks by height and hash, transactions, receipts, events, certificates.

Exceptions::

    LedgerError
     └── NotFound        no such block, transaction or receipt
"""

from xinlian.ledger.store import BlockRecord, Ledger, LedgerError, NotFound, TxRecord

__all__ = ["BlockRecord", "Ledger", "LedgerError", "NotFound", "TxRecord"]
