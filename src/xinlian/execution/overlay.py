"""Layered state views: committed state, the block's writes, one transaction's writes."""

from __future__ import annotations

from collections.abc import Callable

from xinlian.apps.base import StateView
from xinlian.execution.gas import GAS, GasMeter

Reader = Callable[[bytes], bytes | None]
_MISSING = object()


class BlockOverlay:
    """Writes of a block in progress on top of the committed state.

    ``changes`` (key -> value, None for deleted) is what the state tree receives at the
    end of the block.
    """

    __slots__ = ("_read", "changes")

    def __init__(self, read: Reader) -> None:
        self._read = read
        self.changes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        """Latest value of ``key`` including this block's writes."""
        value = self.changes.get(key, _MISSING)
        if value is _MISSING:
            return self._read(key)
        return value  # type: ignore[return-value]


class TxOverlay:
    """One transaction's writes; merged into the block on success, dropped on failure."""

    __slots__ = ("block", "meter", "writes")

    def __init__(self, block: BlockOverlay, meter: GasMeter) -> None:
        self.block = block
        self.meter = meter
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        """Read through this transaction's writes, then the block's, then committed state."""
        value = self.writes.get(key, _MISSING)
        if value is _MISSING:
            return self.block.get(key)
        return value  # type: ignore[return-value]

    def commit(self) -> None:
        """Merge the writes into the block."""
        self.block.changes.update(self.writes)


class AppState(StateView):
    """Metered access to one app's keys (prefix ``<app>/``) within a transaction."""

    __slots__ = ("_prefix", "_tx", "_writable")

    def __init__(self, tx: TxOverlay, app: str, *, writable: bool = True) -> None:
        self._tx = tx
        self._prefix = app.encode() + b"/"
        self._writable = writable

    def get(self, key: bytes) -> bytes | None:
        """Read a key of this app (charged per byte read)."""
        value = self._tx.get(self._prefix + key)
        self._tx.meter.charge(GAS.read + GAS.read_byte * (len(value) if value else 0))
        return value

    def put(self, key: bytes, value: bytes) -> None:
        """Write a key of this app (charged per byte written)."""
        self._check_writable()
        self._tx.meter.charge(GAS.write + GAS.write_byte * (len(key) + len(value)))
        self._tx.writes[self._prefix + key] = value

    def delete(self, key: bytes) -> None:
        """Delete a key of this app."""
        self._check_writable()
        self._tx.meter.charge(GAS.delete)
        self._tx.writes[self._prefix + key] = None

    def app_state(self, app: str) -> StateView:
        """Another system app's keys, with the same write permission as this view."""
        return AppState(self._tx, app, writable=self._writable)

    def _check_writable(self) -> None:
        if not self._writable:
            from xinlian.apps.base import CallError

            raise CallError("a read-only query cannot write state")
