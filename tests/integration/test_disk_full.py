"""A real full disk (a small tmpfs mounted under the node's data directory): the node
stops with one `error:` line naming the path and the cause, and after space is freed it
resumes from its last block with nothing lost. Needs root to mount the tmpfs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bftnet import make_network

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    layout = make_network(tmp_path / "net", nodes=1)
    home = layout.node_homes[0]
    data = home / "data"
    data.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(data)],
        capture_output=True,
        check=False,
    )
    if os.geteuid() != 0 or mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the injected-ENOSPC unit tests still run)")
    try:
        yield home, data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def _start(home: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinlian", "node", "start", "--home", str(home), "--quiet"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_full_disk_stops_the_node_loudly_and_loses_nothing(
    small_disk: tuple[Path, Path],
) -> None:
    home, data = small_disk
    config = home / "config.toml"
    text = config.read_text().replace("[node]\n", "[node]\nmin_free_bytes = 0\n", 1)
    config.write_text(
        text.replace("empty_block_interval_ms = 1000", "empty_block_interval_ms = 20")
    )
    stat = os.statvfs(data)
    filler = data / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 96 * 1024))

    full = _start(home, timeout=120)
    assert full.returncode == 1, full.stdout + full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, full.stderr
    assert f"storage failure in {data}" in errors[0]
    assert "No space left on device" in errors[0]
    assert "Traceback" not in full.stderr
    assert "hint: " in full.stderr
    reached = int((home / "committed.height").read_text())
    assert reached > 0

    filler.unlink()
    again = subprocess.Popen(
        [sys.executable, "-m", "xinlian", "node", "start", "--home", str(home), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert again.stdout is not None
        first = again.stdout.readline()  # "node0: chain ... at height N"
    finally:
        again.terminate()
        again.wait(timeout=30)
    resumed = int(first.rsplit(" ", 1)[1])
    assert resumed >= reached, first  # every block committed before the failure is there
