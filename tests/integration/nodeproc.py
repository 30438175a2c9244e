"""Real node processes on 127.0.0.1 for integration tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 60
#: Node processes log at this level into ``node.log`` (info by default: connections,
#: commits and catch-up are then on record when a fault test fails).
LOG_LEVEL = os.environ.get("XINLIAN_TEST_NODE_LOG", "info")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    url: str,
    method: str | None = None,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 30,
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class NodeProcess:
    """``python -m xinlian node start --home HOME`` as a child process."""

    def __init__(
        self, home: Path, port: int, *, host: str = "127.0.0.1", prefix: tuple[str, ...] = ()
    ) -> None:
        self.home = home
        self.port = port
        self.url = f"http://{host}:{port}"
        self.prefix = prefix  # e.g. ("ip", "netns", "exec", NAME) to run in a namespace
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home / "node.log"

    def start(self, *args: str, log_level: str | None = None) -> None:
        """Start the node (``args`` are extra ``node start`` options, e.g. ``--resync``)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [
                *self.prefix,
                sys.executable,
                "-m",
                "xinlian",
                "node",
                "start",
                "--home",
                str(self.home),
                "--log-level",
                log_level or LOG_LEVEL,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}: {self.log()}")
            try:
                status, _ = http(self.url + "/healthz", timeout=2)
                if status == 200:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node did not answer within {START_TIMEOUT_S}s: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        return int(self.proc.returncode)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]
