"""The node's index of validator-set changes, used to put them in receipts."""

from __future__ import annotations

from typing import Any

from xinlian.api.evidence import ValidatorChanges
from xinlian.types import BlockHeader


class FakeLedger:
    def __init__(self, changes: set[int], height: int) -> None:
        self.changes, self.top, self.reads = changes, height, 0

    def height(self) -> int:
        return self.top

    def header(self, h: int) -> BlockHeader:
        self.reads += 1
        nxt = b"\x02" * 32 if h in self.changes else b"\x01" * 32
        return BlockHeader("c", h, h, b"", b"", b"", b"", b"\x01" * 32, nxt, b"")


def test_changes_are_found_once_and_filtered_by_height() -> None:
    ledger: Any = FakeLedger({3, 7}, 10)
    index = ValidatorChanges()
    assert index.before(ledger, 8) == [3, 7]
    assert index.before(ledger, 7) == [3] and index.before(ledger, 1) == []
    assert ledger.reads == 10  # each header read once
    ledger.top, ledger.changes = 12, {3, 7, 11}
    assert index.before(ledger, 100) == [3, 7, 11] and ledger.reads == 12
