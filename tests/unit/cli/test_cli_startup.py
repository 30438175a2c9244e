"""The CLI starts without importing what it does not need (structural, not timed: the
numbers are in bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from xinlian.cli.main import COMMANDS, cli

#: Modules that cost tenths of a second and that ``--help`` and ``status`` never use.
HEAVY = [
    "aiohttp",
    "rocksdict",
    "jsonschema",
    "jsonschema_rs",
    "uvloop",
    "xinlian.node.runtime",
    "xinlian.node.chain",
    "xinlian.api",
    "xinlian.execution",
    "xinlian.contracts",
    "xinlian.gs1.epcis",
    "xinlian.sdk.aio",
    "xinlian.sdk.evidence",
]


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(loaded)


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_loads_nothing_heavy() -> None:
    loaded = _modules_after("import xinlian.cli.main")
    assert _heavy(loaded) == []
    assert "httpx" not in loaded
    assert not any(m.startswith("xinlian.cli.") and m != "xinlian.cli.main" for m in loaded)


def test_help_imports_no_command_module() -> None:
    loaded = _modules_after(
        "from xinlian.cli.main import cli\n"
        "try:\n    cli.main(['--help'], prog_name='xinlian')\nexcept SystemExit:\n    pass"
    )
    assert _heavy(loaded) == []
    assert not any(m.startswith("xinlian.cli.") and m != "xinlian.cli.main" for m in loaded)


def test_status_imports_only_the_blocking_client() -> None:
    loaded = _modules_after(
        "from xinlian.cli.main import cli\n"
        "try:\n    cli.main(['status', '--url', 'http://127.0.0.1:1'], prog_name='xinlian')\n"
        "except SystemExit:\n    pass"
    )
    assert "xinlian.sdk.client" in loaded  # it did run
    assert _heavy(loaded) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_help_line_is_the_commands_own(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    listed = click.Command(name, help=COMMANDS[name][2])
    assert listed.get_short_help_str(1000) == command.get_short_help_str(1000)
