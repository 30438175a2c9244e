"""No command shows a traceback for a user mistake.

Every command of the click tree (found by walking it, so new commands are covered without
editing this file) runs with typical wrong input: missing files, garbage files, a JSON
file that is not a key, bad hex, bad JSON arguments, an unreachable node and a URL without
``http://``. Each run must print exactly one ``error: ...`` line on stderr, no traceback,
and exit with status 1 (2 for a usage mistake such as a file that does not exist).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import xinlian
from xinlian.cli.main import (
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_USAGE,
    EXPECTED_ERRORS,
    cli,
    is_expected,
)
from xinlian.crypto import get_suite
from xinlian.node.keys import write_key

UNREACHABLE = "http://127.0.0.1:1"

#: Parameters that name something the command creates: a missing path is not a mistake
#: there (the command would create it), so those get a path below a regular file.
CREATES = {
    ("init", "directory"),
    ("up", "directory"),
    ("keys new", "out"),
    ("trace sample", "out"),
    ("evidence receipt", "output"),
    ("evidence timestamp", "output"),
}

#: Options that take JSON (contract call arguments, ``--init`` arguments, metadata).
JSON_PARAMS = {"args", "args_text", "init"}


def _leaves(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), cmd


COMMANDS = dict(_leaves(cli))


@dataclass(frozen=True)
class Files:
    """Inputs the scenarios point at."""

    text: Path  # exists, plain text: not JSON, not a key, not a genesis, not EPCIS
    garbage: Path  # exists, binary bytes that are not UTF-8
    not_a_key: Path  # JSON, but no private key
    wrong_json: Path  # JSON of the wrong shape: not a genesis, receipt, EPCIS or calls
    key: Path  # a valid key file
    folder: Path  # a non-empty directory that holds no network, no node home, no keys
    missing: Path  # does not exist
    uncreatable: Path  # below a regular file: can be neither read nor created


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("wrong-input")
    (root / "notes.txt").write_text("hello, not JSON\n")
    (root / "garbage.bin").write_bytes(b"\xff\xfe\x00garbage\x80\x81{[")
    (root / "not-a-key.json").write_text('{"suite": "ed25519", "name": "x"}\n')
    (root / "wrong.json").write_text('{"type": "EPCISDocument", "hello": [1, 2.5, null]}\n')
    write_key(root / "good.key", get_suite("ed25519").generate(), "good")
    folder = root / "folder"
    folder.mkdir()
    (folder / "readme.txt").write_text("nothing here\n")
    return Files(
        text=root / "notes.txt",
        garbage=root / "garbage.bin",
        not_a_key=root / "not-a-key.json",
        wrong_json=root / "wrong.json",
        key=root / "good.key",
        folder=folder,
        missing=root / "missing" / "nothing.json",
        uncreatable=root / "garbage.bin" / "new",
    )


def _is_dir(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path) and not param.type.file_okay


def _plausible(command: str, param: click.Parameter, files: Files) -> str | None:
    """A value that is not itself the mistake (None: leave the parameter out)."""
    name = param.name or ""
    if name == "url":
        return UNREACHABLE
    if isinstance(param.type, click.Path):
        if (command, name) in CREATES:
            return str(files.uncreatable)
        if name == "key":
            return str(files.key)
        return str(files.folder if _is_dir(param) else files.text)
    if not param.required:
        return None
    if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)):
        return "1"
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    return "x"


def _mutate(scenario: str, command: str, param: click.Parameter, files: Files) -> str | None:
    """The wrong value of ``param`` in ``scenario`` (None: not this scenario's target)."""
    name = param.name or ""
    is_path = isinstance(param.type, click.Path)
    if scenario == "missing" and is_path:
        return str(files.uncreatable if (command, name) in CREATES else files.missing)
    if scenario == "garbage" and is_path:
        return str(files.garbage)
    if scenario == "wrong-json" and is_path and not _is_dir(param):
        return str(files.wrong_json)
    if scenario == "not-a-key" and is_path and name == "key":
        return str(files.not_a_key)
    if scenario == "bad-json" and name in JSON_PARAMS:
        return "{not json"
    if scenario == "no-scheme" and name == "url":
        return "localhost:8545"
    if scenario == "unreachable" and name == "url":
        return UNREACHABLE
    free_text = isinstance(param.type, click.types.StringParamType) and name != "url"
    if scenario == "bad-hex" and free_text and name not in JSON_PARAMS:
        return "0xZZ-not-hex"
    return None


SCENARIOS = [
    "missing",
    "garbage",
    "wrong-json",
    "not-a-key",
    "bad-json",
    "bad-hex",
    "unreachable",
    "no-scheme",
]


def _argv(scenario: str, command: str, files: Files) -> list[str] | None:
    """Arguments for ``command`` in ``scenario``; None if it has nothing to get wrong."""
    cmd = COMMANDS[command]
    argv = command.split()
    mutated = False
    for param in cmd.params:
        if not isinstance(param, (click.Option, click.Argument)) or param.name == "help":
            continue
        if isinstance(param, click.Option) and (param.is_flag or param.hidden):
            continue
        value = _mutate(scenario, command, param, files)
        mutated = mutated or value is not None
        if value is None:
            value = _plausible(command, param, files)
        if value is None:
            continue
        if isinstance(param, click.Argument):
            argv.append(value)
        else:
            argv += [param.opts[0], value]
    return argv if mutated else None


_ANY = Files(*(Path("x"),) * 8)
#: Every (scenario, command) where the command has a parameter the scenario gets wrong.
CASES = [(s, c) for c in sorted(COMMANDS) for s in SCENARIOS if _argv(s, c, _ANY) is not None]


@pytest.mark.parametrize(("scenario", "command"), CASES, ids=[f"{c}:{s}" for s, c in CASES])
def test_wrong_input_gives_one_error_line(scenario: str, command: str, files: Files) -> None:
    argv = _argv(scenario, command, files)
    assert argv is not None
    result = CliRunner().invoke(cli, argv, env={"XINLIAN_DEBUG": "", "XINLIAN_URL": UNREACHABLE})
    shown = f"xinlian {' '.join(argv)}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{shown}\n{result.exception!r}"
    )
    assert "Traceback" not in result.output, shown
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, shown
    assert result.exit_code in (EXIT_ERROR, EXIT_USAGE), shown
    message = errors[0]
    for leak in ("Expecting value", "'private_key'", "KeyError", "internal error"):
        assert leak not in message, shown
    if scenario == "not-a-key" and "key" in argv:
        assert "not-a-key.json" in message, shown
    if scenario == "no-scheme":
        assert "http://localhost:8545" in message, shown


def test_every_command_is_walked() -> None:
    assert {"trace capture", "up", "node start", "tx send", "status"} <= set(COMMANDS)
    assert len(COMMANDS) >= 40
    for command in COMMANDS:
        assert len([c for s, c in CASES if c == command]) >= 2, command


def test_an_unexpected_exception_is_an_internal_error_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(COMMANDS["status"], "callback", broken)
    result = CliRunner().invoke(cli, ["status"], env={"XINLIAN_DEBUG": ""})
    assert result.exit_code == EXIT_INTERNAL
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "error: internal error: ZeroDivisionError: a bug"
    assert "--debug" in result.stderr and "XINLIAN_DEBUG=1" in result.stderr
    debug = CliRunner().invoke(cli, ["--debug", "status"])
    assert isinstance(debug.exception, ZeroDivisionError)  # the traceback is shown


def _package_root_errors() -> set[str]:
    """Every exception class of Xinlian whose bases are all outside Xinlian."""
    roots: set[str] = set()
    for info in pkgutil.walk_packages(xinlian.__path__, "xinlian."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if not issubclass(obj, Exception) or obj.__module__ != info.name:
                continue
            if issubclass(obj, click.ClickException):  # the CLI's own, shown by click
                continue
            if not any(b.__module__.startswith("xinlian.") for b in obj.__mro__[1:]):
                roots.add(f"{obj.__module__}.{obj.__qualname__}")
    return roots


#: Root exceptions a CLI user cannot trigger: API handlers' problem documents (turned
#: into HTTP answers inside the node).
#: Raised and answered inside the API server; never reaches a command.
INTERNAL_ONLY = {"xinlian.api.problems.Problem", "xinlian.api.evidence._Rejected"}


def test_every_package_error_is_expected_or_internal() -> None:
    roots = _package_root_errors()
    assert "xinlian.gs1.epcis.EpcisError" in roots
    unlisted = roots - set(EXPECTED_ERRORS) - INTERNAL_ONLY
    assert not unlisted, f"add to EXPECTED_ERRORS in xinlian/cli/main.py: {sorted(unlisted)}"
    assert set(EXPECTED_ERRORS) <= roots, "EXPECTED_ERRORS names a class that does not exist"


def test_is_expected() -> None:
    from xinlian.gs1.epcis import EpcisError

    assert is_expected(EpcisError([]))
    assert is_expected(FileNotFoundError(2, "No such file", "x"))
    assert not is_expected(ZeroDivisionError())


def _key_error(path: Path) -> str:
    result = CliRunner().invoke(cli, ["keys", "show", str(path)])
    assert result.exit_code in (EXIT_ERROR, EXIT_USAGE), result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and str(path) in line, line
    for leak in ("Expecting value", "'private_key'", "'suite'", "line 1 column", "KeyError"):
        assert leak not in line, line
    return line


def test_every_key_file_problem_says_which_file_what_and_what_to_do(tmp_path: Path) -> None:
    good = tmp_path / "good.key"
    write_key(good, get_suite("ed25519").generate(), "good")
    doc = json.loads(good.read_text())

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    assert "xinlian keys new" in _key_error(tmp_path / "absent.key")
    assert "is a directory" in _key_error(tmp_path)
    assert "not JSON" in _key_error(write("empty.key", ""))
    assert "not JSON" in _key_error(write("binary.key", b"\xff\x00\x81"))
    assert "not a JSON object" in _key_error(write("list.key", "[1, 2]"))
    no_private = _key_error(write("nopriv.key", '{"suite": "ed25519", "name": "x"}'))
    assert 'no "private_key"' in no_private and "xinlian keys new" in no_private
    pem = _key_error(
        write("tsa.key", "-----BEGIN PRIVATE KEY-----\nMC4=\n-----END PRIVATE KEY-----\n")
    )
    assert "PEM key" in pem and "not an account key" in pem
    suite = _key_error(write("rsa.key", json.dumps({**doc, "suite": "rsa"})))
    assert "unknown crypto suite 'rsa'" in suite
    assert "not hex" in _key_error(write("hex.key", json.dumps({**doc, "private_key": "zz"})))
    short = _key_error(write("short.key", json.dumps({**doc, "private_key": "00ff"})))
    assert "not a valid ed25519 key" in short and "damaged" in short
    other = get_suite("ed25519").generate().public_key.hex()
    mismatch = _key_error(write("mismatch.key", json.dumps({**doc, "public_key": other})))
    assert "does not match" in mismatch


def test_a_url_without_a_scheme_suggests_http(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, ["status", "--url", "localhost:8545"])
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.strip() == (
        "error: --url 'localhost:8545' needs http:// in front; did you mean http://localhost:8545?"
    )
    result = CliRunner().invoke(cli, ["status"], env={"XINLIAN_URL": "ftp://host:1"})
    assert result.exit_code == EXIT_ERROR and "http://host:1" in result.stderr
