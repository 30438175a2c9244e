"""``xinlian up``: a development network that runs, shows its work, stops and restarts."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from click.testing import CliRunner

from xinlian.cli.main import cli


def _heights(output: str) -> list[int]:
    return [int(h) for h in re.findall(r"^block (\d+) ", output, flags=re.MULTILINE)]


def test_up_runs_the_workload_then_restarts_on_the_same_data(tmp_path: Path) -> None:
    directory = tmp_path / "dev"
    first = CliRunner().invoke(
        cli, ["up", "--dir", str(directory), "--port", "0", "--blocks", "4", "--duration", "120"]
    )
    assert first.exit_code == 0, first.output
    assert "Created a local network of 4 nodes" in first.output
    assert "Network is up: 4 validators" in first.output
    for name in ("node0", "node1", "node2", "node3"):
        assert re.search(rf"{name}\s+REST API http://127\.0\.0\.1:\d+  p2p ", first.output)
    assert "org1-writer.key" in first.output
    assert re.search(r"explorer  http://127\.0\.0\.1:\d+/explorer/", first.output)
    assert "kv.put key=demo/org" in first.output
    assert "Stopped cleanly" in first.output
    heights = _heights(first.output)
    assert heights[:4] == [1, 2, 3, 4]

    second = CliRunner().invoke(
        cli,
        [
            "up",
            "--dir",
            str(directory),
            "--port",
            "0",
            "--no-workload",
            "--blocks",
            "1",
            "--duration",
            "120",
        ],
    )
    assert second.exit_code == 0, second.output
    assert "Restarting the network" in second.output
    assert "Created" not in second.output
    again = _heights(second.output)
    assert len(again) == 1 and again[0] > heights[-1]


def test_up_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            [
                "up",
                "--dir",
                str(tmp_path / "dev"),
                "--port",
                str(port),
                "--nodes",
                "1",
                "--no-workload",
                "--duration",
                "30",
            ],
        )
    assert result.exit_code == 1, result.output
    assert f"node0 did not start: error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
