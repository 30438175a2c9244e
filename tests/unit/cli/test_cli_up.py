"""``xinlian up``: a development network that runs, shows its work, stops and restarts."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import LiveNode

from xinlian.cli.common import CliError
from xinlian.cli.main import cli
from xinlian.cli.network import LOCK_FILE, network_lock


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
    assert f"error: node0's REST API port {port} on 127.0.0.1 is in use" in result.output
    assert "Network is up" not in result.output
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _init_one_node(directory: Path) -> None:
    args = ["init", str(directory), "--port", str(_free_port())]
    result = CliRunner().invoke(cli, [*args, "--p2p-port", str(_free_port())])
    assert result.exit_code == 0, result.output


def test_a_second_up_refuses_at_once_naming_the_running_network(tmp_path: Path) -> None:
    directory = tmp_path / "dev"
    _init_one_node(directory)
    first = subprocess.Popen(
        [sys.executable, "-m", "xinlian", "up", "--dir", str(directory), "--no-workload"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert first.stdout is not None
        seen = []
        for line in first.stdout:  # bounded: the process ends if its node cannot start
            seen.append(line)
            if line.startswith("Network is up"):
                break
        assert any(line.startswith("Network is up") for line in seen), "".join(seen)
        log_size = (directory / "node0" / "node.log").stat().st_size

        second = CliRunner().invoke(cli, ["up", "--dir", str(directory), "--no-workload"])
        assert second.exit_code == 1, second.output
        assert "Network is up" not in second.output
        [error] = [line for line in second.stderr.splitlines() if line.startswith("error: ")]
        assert f"the network in {directory} is already running" in error
        assert "chain 'xinlian-dev'" in error and f"process {first.pid}" in error
        # No node of the second run was started (it would have logged its failure).
        assert (directory / "node0" / "node.log").stat().st_size == log_size
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_a_stale_lock_of_a_crashed_up_does_not_block(tmp_path: Path) -> None:
    code = (
        "import sys, os\n"
        "from pathlib import Path\n"
        "from xinlian.cli.network import network_lock\n"
        "with network_lock(Path(sys.argv[1]), 'xinlian-dev', 'http://127.0.0.1:9'):\n"
        "    print('held', flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"  # a crash: no clean-up runs
    )
    argv = [sys.executable, "-c", code, str(tmp_path)]
    crashed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert crashed.stdout == "held\n" and crashed.returncode == -signal.SIGKILL
    assert '"chain_id": "xinlian-dev"' in (tmp_path / LOCK_FILE).read_text()  # left behind
    with (
        network_lock(tmp_path, "xinlian-dev", "http://127.0.0.1:9"),
        pytest.raises(CliError, match="already running"),  # but held now: refused
        network_lock(tmp_path, "xinlian-dev", "http://127.0.0.1:9"),
    ):
        pass


def test_up_counts_observers_apart_from_validators(tmp_path: Path) -> None:
    directory = tmp_path / "dev"
    _init_one_node(directory)
    added = CliRunner().invoke(
        cli,
        [
            "node",
            "add",
            "--dir",
            str(directory),
            "--observer",
            "--port",
            str(_free_port()),
            "--p2p-port",
            str(_free_port()),
        ],
    )
    assert added.exit_code == 0, added.output
    result = CliRunner().invoke(
        cli,
        ["up", "--dir", str(directory), "--no-workload", "--blocks", "1", "--duration", "120"],
    )
    assert result.exit_code == 0, result.output
    assert "Network is up: 1 validator, 1 observer" in result.output
    assert re.search(r"node1 +REST API .*\(observer\)", result.output)
    assert not re.search(r"node0 +REST API .*\(observer\)", result.output)


def test_block_lines_start_at_the_first_height_even_if_the_feed_subscribed_late(
    live_node: LiveNode, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a busy machine the first blocks of a new chain are committed before ``up``'s
    WebSocket subscription starts; they are fetched over REST, so no height is skipped."""
    from xinlian.cli.network import _print_blocks
    from xinlian.sdk import Client

    deadline = time.monotonic() + 60
    with Client(live_node.url) as client:
        while client.status().height < 3:
            assert time.monotonic() < deadline, "the live node made no blocks"
            time.sleep(0.05)
    asyncio.run(_print_blocks(live_node.url, asyncio.Event(), max_blocks=5, first_height=1))
    assert _heights(capsys.readouterr().out) == [1, 2, 3, 4, 5]
