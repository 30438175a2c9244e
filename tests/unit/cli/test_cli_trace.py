"""``xinlian trace``: sample documents, offline validation, the demo on a live node."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from xinlian.cli.main import cli
from xinlian.cli.trace import DEMO_ORGS, problem_lines
from xinlian.gs1.epcis import FieldProblem
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
    assert f"error: {bad} is not a valid EPCIS 2.0 document (1 problem)" in result.output


def test_validate_prints_one_readable_line_per_problem(tmp_path: Path) -> None:
    doc = food_chain(5).captures[0].document
    events = doc["epcisBody"]["eventList"]
    events[0]["action"] = "MOVE"
    del events[1]["eventTime"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = _run("trace", "validate", str(bad), code=1)
    *problems, error = result.stderr.splitlines()
    assert problems == [
        "epcisBody.eventList[0].action: 'MOVE' is not one of 'OBSERVE', 'ADD', 'DELETE'",
        "epcisBody.eventList[1].eventTime: required",
    ]
    assert error == f"error: {bad} is not a valid EPCIS 2.0 document (2 problems)"
    # Capture checks every document before sending anything: no node is needed to refuse.
    result = _run("trace", "capture", str(bad), "--key", str(bad), code=1)
    assert result.stderr.splitlines()[-1].startswith(f"error: {bad} is not a valid EPCIS")


def test_problem_lines_never_dump_a_value() -> None:
    dump = "{'type': 'ObjectEvent', 'eventTime': '2026-06-01T14:07:00.000+08:00', 'act"
    lone = [FieldProblem("epcisBody.eventList[2]", dump)]
    assert problem_lines(lone) == [
        "epcisBody.eventList[2]: this object matches none of the forms the EPCIS 2.0 "
        "schema allows here"
    ]
    inner = FieldProblem("epcisBody.eventList[2].action", "'MOVE' is not one of ['ADD']")
    assert problem_lines([*lone, inner]) == [str(inner)]  # the precise one is enough
    long = FieldProblem("epcisBody.eventList[0].epcList[0]", "'" + "x" * 500 + "' is bad")
    [line] = problem_lines([long])
    assert len(line) < 250 and line.endswith("…")


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


def test_the_guide_runs_in_its_order(live_node: Any, tmp_path: Path) -> None:
    """docs/trace.md: demo, then sample, then capture sample files with the keys it names."""
    keys, url = live_node.layout.key_dir, live_node.url
    _run("trace", "demo", "--keys", str(keys), "--url", url)  # default seed
    again = _run("trace", "demo", "--keys", str(keys), "--url", url, code=1)
    assert "already anchored" in again.stderr and "another --seed (not 1)" in again.stderr
    out = _run("trace", "sample", str(tmp_path / "out")).stdout  # default seed
    assert "01-farm-harvest.json --key .xinlian/keys/org1-writer.key" in out
    setup = json.loads((tmp_path / "out" / "setup.json").read_text())
    for capture in setup["captures"][:2]:
        path = tmp_path / "out" / capture["file"]
        key = keys / capture["dev_network_key"]
        done = _run("trace", "capture", str(path), "--key", str(key), "--url", url)
        assert done.stdout.rstrip().endswith(": ok"), done.output
    assert [c["dev_network_key"] for c in setup["captures"]][:2] == [
        "org1-writer.key",
        "org2-writer.key",
    ]

    lot = food_chain(2).lots[0]
    history = _run("trace", "history", lot, "--direction", "downstream", "--url", url).stdout
    times = re.findall(r"^  (\S+)  org\d", history, flags=re.MULTILINE)
    assert times and all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", t) for t in times
    ), history

    unknown = "https://id.gs1.org/01/09506000134352/21/never-captured"
    missing = _run("trace", "history", unknown, "--url", url, code=1)
    assert missing.stderr.startswith(f"error: no anchored event names {unknown}")
