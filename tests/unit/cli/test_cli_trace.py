"""``xinlian trace``: sample documents, offline validation, the demo on a live node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from xinlian.cli.main import cli
from xinlian.cli.trace import DEMO_ORGS
from xinlian.sdk.trace import plan_capture
from xinlian.sdk.trace_sample import food_chain


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


def test_sample_then_validate(tmp_path: Path) -> None:
    out = _run("trace", "sample", str(tmp_path), "--seed", "5", "--lots", "3")
    assert "wrote 7 documents (28 events)" in out.output
    files = sorted(tmp_path.glob("0*.json"))
    assert [f.name for f in files][:2] == ["01-farm-harvest.json", "02-inspector-inspection.json"]
    doc = json.loads(files[0].read_text())
    got = json.loads(_run("trace", "validate", str(files[0]), "--json").stdout)
    assert [e["hash"] for e in got["events"]] == plan_capture(doc).hashes
    setup = json.loads((tmp_path / "setup.json").read_text())
    assert setup["participants"][0]["role"] == "producer"
    doc["epcisBody"]["eventList"][0]["action"] = "MOVE"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = _run("trace", "validate", str(bad), code=1)
    assert "epcisBody.eventList[0].action: 'MOVE' is not one of" in result.output
    assert "error: invalid EPCIS document" in result.output


def test_demo_on_a_live_node(live_node: Any) -> None:
    keys = str(live_node.layout.key_dir)
    out = _run("trace", "demo", "--keys", keys, "--seed", "9", "--url", live_node.url)
    assert "org1 captures harvest: ok" in out.output
    assert "made from 3 lots, 2 inspection certificate(s)" in out.output
    scan = food_chain(9, orgs=DEMO_ORGS).consumer_scan
    assert f"consumer scan {scan}:" in out.output
    hist = _run("trace", "history", scan, "--direction", "upstream", "--url", live_node.url)
    assert "[made_from]" in hist.output and "inspecting" in hist.output

    chain = food_chain(9, orgs=DEMO_ORGS)
    first = plan_capture(chain.captures[0].document).hashes[0]
    shown = _run("trace", "event", first, "--genesis", str(live_node.layout.genesis),
                 "--url", live_node.url)  # fmt: skip
    assert "proof verified: final at height" in shown.output
    assert "body: matches the hash" in shown.output
