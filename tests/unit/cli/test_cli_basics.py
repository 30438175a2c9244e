"""The CLI without a node: help everywhere, argument parsing, friendly errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from xinlian.cli.common import CliError, convert_args, parse_args_json
from xinlian.cli.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
        else:
            out.append((*prefix, name))
    return out


ALL_COMMANDS = _commands(cli)


def test_the_expected_commands_exist() -> None:
    for expected in [
        ("init",),
        ("up",),
        ("node", "start"),
        ("keys", "new"),
        ("keys", "show"),
        ("keys", "list"),
        ("tx", "send"),
        ("tx", "get"),
        ("tx", "batch"),
        ("query", "state"),
        ("query", "call"),
        ("query", "account"),
        ("block", "get"),
        ("status",),
    ]:
        assert expected in ALL_COMMANDS


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "xinlian")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert "Traceback" not in result.output
    short = CliRunner().invoke(cli, [*path, "-h"])
    assert short.exit_code == 0 and short.output == result.output


def test_version_and_module_entry_point() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "xinlian" in result.output
    proc = subprocess.run(
        [sys.executable, "-m", "xinlian", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "Usage: xinlian" in proc.stdout


def test_args_json_conventions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_args_json(None) == {}
    assert parse_args_json('{"key": "a", "value": "b"}') == {"key": "a", "value": "b"}
    parsed = parse_args_json('{"pk": "hex:00ff", "n": [1, "hex:0x10", {"s": "str:hex:zz"}]}')
    assert parsed == {"pk": b"\x00\xff", "n": [1, b"\x10", {"s": "hex:zz"}]}
    (tmp_path / "a.json").write_text('{"key": "from-file"}')
    assert parse_args_json(f"@{tmp_path / 'a.json'}") == {"key": "from-file"}
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO('{"key": "stdin"}'))
    assert parse_args_json("-") == {"key": "stdin"}
    for bad, message in [
        ("{key: 1}", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"x": 1.5}', "floats are not allowed"),
        ('{"x": "hex:zz"}', "not valid hex"),
        ('{"x": 18446744073709551616}', "64-bit"),
        (f"@{tmp_path / 'missing.json'}", "cannot read arguments"),
    ]:
        with pytest.raises(CliError, match=message):
            parse_args_json(bad)
    with pytest.raises(CliError, match="JSON object"):
        convert_args("text")


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_friendly_errors(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    assert _run(["keys", "new", "k", "--out", str(key)])[0] == 0
    send = ["tx", "send", "--target", "kv", "--method", "put"]

    code, out = _run([*send, "--key", str(tmp_path / "missing.key")])
    assert code == 1 and "error: no key file" in out

    code, out = _run([*send, "--key", str(key), "--args", '{"key": a}'])
    assert code == 1 and "error: --args is not valid JSON" in out

    code, out = _run([*send, "--key", str(key), "--args", '{"v": 0.5}'])
    assert code == 1 and "floats are not allowed" in out

    url = f"http://127.0.0.1:{_closed_port()}"
    code, out = _run([*send, "--key", str(key), "--url", url])
    assert code == 1 and "error: cannot reach" in out
    code, out = _run(["status", "--url", url])
    assert code == 1 and "error: cannot reach" in out

    code, out = _run(["tx", "get", "not-hex", "--url", url])
    assert code == 1 and "error: not a hex hash" in out
    code, out = _run(["block", "get", "abc", "--url", url])
    assert code == 1 and "height must be a number" in out
    code, out = _run(["query", "state", "hex:zz", "--url", url])
    assert code == 1 and "not valid hex" in out
    code, out = _run(["query", "account", "nobody", "--url", url])
    assert code == 1 and "neither an address" in out
    code, out = _run(["node", "start", "--home", str(tmp_path / "nohome")])
    assert code == 1 and "is not a node home" in out
    (tmp_path / "bad.key").write_text("{}")
    code, out = _run(["keys", "show", str(tmp_path / "bad.key")])
    assert code == 1 and "bad.key is not a key file" in out
    code, out = _run(["tx", "batch", str(tmp_path / "none.jsonl"), "--key", str(key)])
    assert code == 1 and "none.jsonl: no such file" in out


def test_usage_errors_exit_with_status_2() -> None:
    result = CliRunner().invoke(cli, ["tx", "send", "--target", "kv"])
    assert result.exit_code == 2
    assert "Missing option '--key'" in result.output
    result = CliRunner().invoke(cli, ["init", "--crypto", "rsa"])
    assert result.exit_code == 2 and "'rsa' is not one of" in result.output
