"""``max_block_bytes``: a builder stops before the limit and leaves the rest pending; a
validator refuses a block over it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from xinlian.execution import InvalidBlock, Mode
from xinlian.types.genesis import ChainParams


def test_block_bytes_limit(helpers: SimpleNamespace) -> None:
    world = helpers.World(helpers.make_genesis(params=ChainParams(max_block_bytes=1000)))
    envs = [world.tx("writer_a", args={"key": f"k{i}", "value": "x" * 200}) for i in range(6)]
    size = len(envs[0].raw)
    fits = 1000 // size
    assert 0 < fits < len(envs)
    built = world.execute(envs, Mode.BUILD)
    assert built.txs == envs[:fits] and not built.dropped  # the rest stays in the mempool
    with pytest.raises(InvalidBlock, match="more than 1000 bytes"):
        world.execute(envs, Mode.VALIDATE)
    assert len(world.execute(envs[:fits], Mode.VALIDATE).receipts) == fits
