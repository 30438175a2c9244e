"""Running a node with its REST API in this process, and stopping it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xinlian.api.server import serve
from xinlian.node.config import load_config
from xinlian.node.runtime import Node
from xinlian.sdk import XinlianError

#: How long a node may take to open its data and bind its port.
START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class RunningNode:
    """A node serving its API: the node, the bound address and the base URL."""

    node: Node
    host: str
    port: int

    @property
    def url(self) -> str:
        """The REST API's base URL."""
        return f"http://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def running_node(
    home: Path, *, host: str | None = None, port: int | None = None, resync: bool = False
) -> AsyncIterator[RunningNode]:
    """Start the node of ``home`` and its API; stop both when the block exits.

    ``port`` None uses the node's config; 0 picks a free port. ``resync``: the data was
    moved aside, so the signer waits to catch up with the network before it signs.

    Raises:
        XinlianError: the node cannot start (bad home, port in use, ...).
    """
    config = load_config(home)
    node = Node(config, resync=resync)
    bind_host = host or config.api.host
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def ready(p: int) -> None:
        if not bound.done():
            bound.set_result(p)

    task = asyncio.create_task(serve(node, bind_host, port, ready=ready), name="api")
    started = False
    try:
        waiting: list[asyncio.Future[Any]] = [task, bound]
        done, _ = await asyncio.wait(
            waiting, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if bound not in done:
            exc = task.exception() if task in done else None
            raise XinlianError(
                _start_error(exc, bind_host, config.api.port if port is None else port)
            )
        started = True
        yield RunningNode(node, bind_host, bound.result())
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if not started:
            # serve() failed or timed out before it owned the node's shutdown.
            with contextlib.suppress(Exception):
                await node.stop()


def _start_error(exc: BaseException | None, host: str, port: int) -> str:
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return (
            f"cannot listen on {host}:{port}: {exc.strerror}; stop the other process or "
            "choose another port with --port"
        )
    if exc is not None:
        return f"the node failed to start: {exc}"
    return f"the node did not start within {START_TIMEOUT:g}s"


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGINT or SIGTERM; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


def run_async(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on a fresh event loop (uvloop when available); returns its result."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result: int = runner.run(main)
        return result


class BackgroundNode:
    """A node and its API on their own event loop in a background thread.

    For tests, benchmarks and embedding next to blocking code::

        with BackgroundNode(home) as live:
            client = Client(live.url)

    Args:
        home: the node's home directory.
        host: listen address of the API.
        port: API port (0, the default, picks a free port).
    """

    def __init__(self, home: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.home = home
        self.host = host
        self.port = port
        self.url = ""
        self.node: Node | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=f"node-{home.name}", daemon=True)

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the node and wait until its API listens; re-raises a start failure."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise XinlianError(f"the node did not start within {timeout:g}s")
        if self.error is not None:
            raise self.error

    def stop(self, timeout: float = START_TIMEOUT) -> None:
        """Stop the node and wait for its thread to end."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise XinlianError(f"the node did not stop within {timeout:g}s")

    def __enter__(self) -> BackgroundNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with running_node(self.home, host=self.host, port=self.port) as running:
                self.node = running.node
                self.url = running.url
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported to the starting thread
            self.error = exc
        finally:
            self._ready.set()
