"""Identical calls give identical gas, results and state in other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from xinlian.types import TxStatus

SCENARIO = Path(__file__).with_name("scenario.py")


def _run_elsewhere(hash_seed: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, str(SCENARIO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_same_gas_results_and_state_in_other_processes(helpers: SimpleNamespace) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("contract_scenario", SCENARIO)
    assert spec is not None and spec.loader is not None
    scenario = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scenario)
    here = json.loads(json.dumps(scenario.run(helpers)))
    # The workload exercises success, a failed require, out of gas, a bad transition and a
    # refused dict key.
    assert TxStatus.OUT_OF_GAS in here["status"] and TxStatus.FAILED in here["status"]
    assert here["status"].count(TxStatus.OK) == len(here["status"]) - 4
    assert "dict keys are str, bytes, bool or None" in here["errors"][-1]
    assert len(set(here["gas"])) > 5
    first, second = _run_elsewhere("1"), _run_elsewhere("4242")
    assert first == here
    assert second == here
