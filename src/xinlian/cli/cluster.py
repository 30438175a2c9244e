"""A local network of node processes: start each node in its own process, wait until
every API answers, and stop them all (SIGTERM, then SIGKILL after a grace period).

Separate processes use every core (one Python process is bound by its GIL) and behave
like nodes on separate machines: each has its own data directory, log and ports.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from xinlian.node.config import load_config

#: How long a node may take to open its data and answer ``/healthz``.
START_TIMEOUT_S = 60.0
#: How long a node may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT_S = 20.0


class ClusterError(Exception):
    """A node of the local network failed to start."""


@dataclass
class NodeProcess:
    """One node's process, its home and its API address."""

    home: Path
    name: str
    url: str
    p2p: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    #: Where the node listens: (what, host, port) for its REST API and its p2p port.
    listens: tuple[tuple[str, str, int], ...] = ()

    @property
    def log_path(self) -> Path:
        """Where the node's output goes."""
        return self.home / "node.log"

    def start(self) -> None:
        """Spawn ``python -m xinlian node start --home HOME --quiet``."""
        command = [sys.executable, "-m", "xinlian", "node", "start", "--home", str(self.home)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*command, "--quiet"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                start_new_session=True,  # Ctrl-C reaches the parent only; it stops us
            )

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None

    def last_error(self) -> str:
        """The node's last ``error:`` line (or its last log line)."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        errors = [line for line in lines if line.startswith("error:")]
        return (errors or lines or ["no output"])[-1]

    def terminate(self) -> None:
        """Ask the node to stop (SIGTERM)."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Wait for the process; SIGKILL it if it outlives ``timeout``."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def node_processes(root: Path) -> list[NodeProcess]:
    """The nodes of the network in ``root`` (``node0``, ``node1``, ...)."""
    nodes: list[NodeProcess] = []
    for home in sorted(root.glob("node*"), key=lambda p: (len(p.name), p.name)):
        if not (home / "config.toml").exists():
            continue
        config = load_config(home)
        host = "127.0.0.1" if config.api.host in ("0.0.0.0", "") else config.api.host
        nodes.append(
            NodeProcess(
                home,
                config.name,
                f"http://{host}:{config.api.port}",
                f"{config.p2p.host}:{config.p2p.port}",
                listens=(
                    ("REST API", config.api.host, config.api.port),
                    ("p2p", config.p2p.host, config.p2p.port),
                ),
            )
        )
    return nodes


def busy_ports(nodes: list[NodeProcess]) -> list[str]:
    """The listen addresses of ``nodes`` that another process already holds (checked
    before starting, so a node never talks to somebody else's network on its port)."""
    busy: list[str] = []
    for node in nodes:
        for what, host, port in node.listens:
            if port == 0:
                continue
            with socket.socket() as probe:
                # As the servers do: a port left in TIME_WAIT by a stopped node is free.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((host or "0.0.0.0", port))
                except OSError:
                    busy.append(f"{node.name}'s {what} port {port} on {host or '0.0.0.0'}")
    return busy


async def _healthy(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url + "/healthz") as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def start_all(nodes: list[NodeProcess], timeout: float = START_TIMEOUT_S) -> None:
    """Start every node and wait until each answers ``/healthz``.

    Raises:
        ClusterError: a node exited or did not answer in time (the others are stopped).
    """
    for node in nodes:
        node.start()
    deadline = time.monotonic() + timeout
    waiting = list(nodes)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while waiting:
            for node in list(waiting):
                if not node.alive():
                    await stop_all(nodes)
                    raise ClusterError(f"{node.name} did not start: {node.last_error()}")
                if await _healthy(session, node.url):
                    waiting.remove(node)
            if waiting and time.monotonic() > deadline:
                await stop_all(nodes)
                names = ", ".join(n.name for n in waiting)
                raise ClusterError(f"{names} did not answer within {timeout:g}s")
            if waiting:
                await asyncio.sleep(0.2)


async def stop_all(nodes: list[NodeProcess], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every node, wait for all (SIGKILL after ``timeout``)."""
    for node in nodes:
        node.terminate()
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(None, n.wait, timeout) for n in nodes))
