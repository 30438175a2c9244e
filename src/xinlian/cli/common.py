"""What every command shares: options, argument parsing, output and friendly errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

from xinlian.codec import CodecError, encode_args, to_builtins
from xinlian.sdk.client import DEFAULT_URL

if TYPE_CHECKING:
    from xinlian.sdk import Client

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: Prefixes of strings in ``--args`` JSON: ``"hex:..."`` is bytes, ``"str:..."`` a literal.
HEX_PREFIX = "hex:"
STR_PREFIX = "str:"


class CliError(click.ClickException):
    """An expected failure with a message for the user (printed as ``error: ...``)."""

    def show(self, file: Any = None) -> None:
        """Print ``error: <message>`` to stderr."""
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Stop the command with ``error: message`` and exit status 1."""
    raise CliError(message)


def check_url(ctx: click.Context | None, param: click.Parameter | None, value: str) -> str:
    """A node URL must be ``http://host:port`` or ``https://...``; suggests the fix."""
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        fail(f"--url {text!r} needs http:// in front; did you mean http://{text}?")
    if scheme.lower() not in ("http", "https"):
        fail(f"--url {text!r} must start with http:// or https://, e.g. http://{rest}")
    if not rest.strip("/"):
        fail(f"--url {text!r} names no host; e.g. {DEFAULT_URL}")
    return text


def url_option(fn: F) -> F:
    """``--url`` (default ``$XINLIAN_URL`` or ``http://127.0.0.1:8545``)."""
    return click.option(
        "--url",
        envvar="XINLIAN_URL",
        default=DEFAULT_URL,
        show_default=True,
        callback=check_url,
        help="Node REST API address (env XINLIAN_URL).",
    )(fn)


def genesis_option(fn: F) -> F:
    """``--genesis FILE``: verify against this genesis instead of trusting the node."""
    return click.option(
        "--genesis",
        "genesis",
        envvar="XINLIAN_GENESIS",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Trusted genesis.json: pin the chain and verify commits against its "
        "validators (env XINLIAN_GENESIS). Without it the node's validator set is trusted.",
    )(fn)


def json_option(fn: F) -> F:
    """``--json``: machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(fn)


def make_client(url: str, genesis: Path | None = None, key: Path | None = None) -> Client:
    """An SDK client for a command."""
    from xinlian.sdk import Client, Signer, read_key_file

    signer = Signer(read_key_file(key)[0]) if key is not None else None
    return Client(url, key=signer, genesis=genesis)


def _convert_arg(value: Any, path: str) -> Any:
    if isinstance(value, str):
        if value.startswith(HEX_PREFIX):
            text = value[len(HEX_PREFIX) :].removeprefix("0x")
            try:
                return bytes.fromhex(text)
            except ValueError:
                fail(f"{path}: {value[:40]!r} is not valid hex after 'hex:'")
        if value.startswith(STR_PREFIX):
            return value[len(STR_PREFIX) :]
        return value
    if isinstance(value, float):
        fail(f"{path}: floats are not allowed in arguments; use integers")
    if isinstance(value, list):
        return [_convert_arg(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _convert_arg(v, f"{path}.{k}") for k, v in value.items()}
    return value


def parse_args_json(text: str | None) -> dict[str, Any]:
    """Parse ``--args``: a JSON object, ``@file.json``, or ``-`` for stdin.

    Strings ``"hex:<hex>"`` become bytes and ``"str:<text>"`` stay text without the prefix
    (to pass a string that starts with ``hex:``).
    """
    if text is None or text == "":
        return {}
    source = "--args"
    if text == "-":
        text = sys.stdin.read()
        source = "stdin"
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            fail(f"cannot read arguments from {path}: {exc.strerror or exc}")
        source = str(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            'example: --args \'{"key": "a", "value": "b"}\''
        )
    return convert_args(doc, source)


def convert_args(doc: Any, source: str = "args") -> dict[str, Any]:
    """Turn a parsed JSON object into call arguments (``hex:``/``str:`` strings resolved),
    checking that they encode canonically."""
    if not isinstance(doc, dict):
        fail(f"{source} must be a JSON object of argument names to values")
    args = _convert_arg(doc, "args")
    try:
        encode_args(args)
    except CodecError as exc:
        fail(f"{source}: cannot encode arguments: {exc}")
    result: dict[str, Any] = args
    return result


def read_text(path: Path, what: str = "file") -> str:
    """A UTF-8 text file's content; a missing, unreadable or binary file stops the command
    with a message naming it and ``what`` it should be."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file (expected a {what})")
    except IsADirectoryError:
        fail(f"{path} is a directory, not a {what}")
    except UnicodeDecodeError:
        fail(f"{path} is not a {what}: it is not UTF-8 text")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


def read_json(path: Path, what: str = "JSON document") -> Any:
    """A JSON file's content (see :func:`read_text`); invalid JSON names the position."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path} is not a {what}: not valid JSON at line {exc.lineno} column {exc.colno}")


def echo_json(value: Any) -> None:
    """Print a value as indented JSON (records and bytes made JSON-friendly)."""
    click.echo(json.dumps(to_builtins(value), indent=2, ensure_ascii=False))


def iso_time(ms: int) -> str:
    """A block or event time (epoch milliseconds) as ISO 8601 UTC, as every command shows
    times: ``2026-06-01T06:07:00.000+00:00``."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


def short(data: bytes, n: int = 8) -> str:
    """The first ``n`` bytes of a hash in hex, with an ellipsis."""
    return data[:n].hex() + "…"


def show_value(value: bytes | None) -> str:
    """A state value for people: text if it is printable UTF-8, else ``hex:...``."""
    if value is None:
        return "(absent)"
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return HEX_PREFIX + value.hex()
    if text.isprintable():
        return text
    return HEX_PREFIX + value.hex()


def is_tty() -> bool:
    """True when stderr is a terminal (progress may redraw lines)."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@contextmanager
def status_line(message: str) -> Iterator[None]:
    """Show ``message`` on stderr while the block runs (a progress note for waits)."""
    click.echo(message, err=True, nl=not is_tty())
    try:
        yield
    finally:
        if is_tty():
            click.echo("\r\033[K", err=True, nl=False)


def progress_bar(*, length: int, label: str) -> ProgressBar[int]:
    """A progress bar on stderr counting to ``length``, so stdout stays clean for ``--json``."""
    return click.progressbar(length=length, label=label, file=sys.stderr)


def progress_over(items: Iterable[T], *, label: str) -> ProgressBar[T]:
    """A progress bar on stderr that yields ``items`` as it advances."""
    return click.progressbar(items, label=label, file=sys.stderr)
