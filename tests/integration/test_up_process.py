"""`xinlian up` as a user runs it: a 4-node network from one command, Ctrl-C stops it all."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nodeproc import http

pytestmark = pytest.mark.integration


def test_up_starts_four_nodes_and_ctrl_c_stops_every_one(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xinlian", "up", "--dir", str(tmp_path / "net"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("block 3 "):
                break
        output = "".join(lines)
        assert "block 3 " in output, output
        urls = re.findall(r"node\d\s+REST API (http://127\.0\.0\.1:\d+)", output)
        assert len(urls) == 4, output
        heights = [http(u + "/v1/status")[1]["height"] for u in urls]
        assert min(heights) >= 2, heights
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output + rest
    assert "Stopped cleanly" in rest
    assert "warning:" not in rest and "Traceback" not in rest, rest
    for url in urls:  # every node process is gone: nobody answers
        with pytest.raises(OSError):
            http(url + "/healthz", timeout=2)
