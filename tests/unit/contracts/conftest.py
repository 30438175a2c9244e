"""A chain with a deployer account, and helpers to deploy and call contracts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.codec import decode
from xinlian.types import Receipt, TxStatus

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "contracts"


class ContractWorld:
    """A ``World`` (tests/unit/conftest.py) plus contract helpers."""

    EXAMPLES = EXAMPLES

    def __init__(self, helpers: SimpleNamespace) -> None:
        self.helpers = helpers
        accounts = (*helpers.DEFAULT_ACCOUNTS, ("dev_a", "a", ("deployer",)))
        self.world = helpers.World(helpers.make_genesis(accounts=accounts))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    def deploy_receipt(
        self,
        source: str,
        init: dict[str, Any] | None = None,
        who: str = "dev_a",
        policy: str = "immutable",
        **kw: Any,
    ) -> Receipt:
        args = {"source": source, "init": init or {}, "upgrade_policy": policy}
        return self.world.call(who, "contracts", "deploy", args, **kw)  # type: ignore[no-any-return]

    def deploy(self, source: str, init: dict[str, Any] | None = None, **kw: Any) -> str:
        receipt = self.deploy_receipt(source, init, **kw)
        assert receipt.status == TxStatus.OK, receipt.error
        return decode(receipt.output, str)

    def example(self, name: str, init: dict[str, Any] | None = None) -> str:
        return self.deploy((EXAMPLES / f"{name}.py").read_text(), init)

    def output(self, receipt: Receipt) -> Any:
        assert receipt.status == TxStatus.OK, receipt.error
        return None if not receipt.output else decode(receipt.output, Any)  # type: ignore[arg-type]

    def state_root(self) -> bytes:
        """A digest of the whole dict-backed state (stands in for the Merkle root)."""
        import hashlib

        h = hashlib.sha256()
        for key in sorted(self.world.state):
            h.update(len(key).to_bytes(4, "big") + key)
            value = self.world.state[key]
            h.update(len(value).to_bytes(4, "big") + value)
        return h.digest()


@pytest.fixture
def cw(helpers: SimpleNamespace) -> ContractWorld:
    """A chain whose account ``dev_a`` (organisation a) holds the deployer role."""
    return ContractWorld(helpers)
