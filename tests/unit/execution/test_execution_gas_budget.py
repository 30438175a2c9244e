"""``gas_budget``: a builder closes the block once its receipts used that much gas and
leaves the rest pending; validators do not apply it (it is the proposer's policy)."""

from __future__ import annotations

from types import SimpleNamespace

from xinlian.execution import Mode


def test_builder_stops_after_the_budget(helpers: SimpleNamespace) -> None:
    world = helpers.World(helpers.make_genesis())
    envs = [world.tx("writer_a", args={"key": f"k{i}", "value": "x" * 50}) for i in range(6)]
    full = world.execute(envs, Mode.BUILD)
    used = [r.gas_used for r in full.receipts]
    assert len(used) == 6 and all(g > 0 for g in used)
    # The budget is reached by the third receipt: three transactions, the rest pending.
    built = world.execute(envs, Mode.BUILD, gas_budget=used[0] + used[1] + 1)
    assert built.txs == envs[:3] and not built.dropped
    assert [r.gas_used for r in built.receipts] == used[:3]
    # Exactly reached: the block closes there.
    exact = world.execute(envs, Mode.BUILD, gas_budget=used[0] + used[1])
    assert exact.txs == envs[:2]
    # One transaction over the whole budget still makes a block of one.
    alone = world.execute(envs, Mode.BUILD, gas_budget=1)
    assert alone.txs == envs[:1]


def test_validators_ignore_the_budget(helpers: SimpleNamespace) -> None:
    world = helpers.World(helpers.make_genesis())
    envs = [world.tx("writer_a", args={"key": f"k{i}", "value": "v"}) for i in range(4)]
    checked = world.execute(envs, Mode.VALIDATE, gas_budget=1)
    assert checked.txs == envs
