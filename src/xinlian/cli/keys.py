"""``xinlian keys``: create and inspect key files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import echo_json, fail, json_option
from xinlian.crypto import address_of, get_suite
from xinlian.node.keys import write_key
from xinlian.sdk import XinlianError, read_key_file


@click.group("keys")
def keys_group() -> None:
    """Create and inspect account keys (JSON key files, mode 0600)."""


def _info(path: Path) -> dict[str, Any]:
    keypair, name = read_key_file(path)
    suite = get_suite(keypair.suite)
    return {
        "name": name,
        "suite": keypair.suite,
        "address": address_of(suite, keypair.public_key),
        "public_key": keypair.public_key.hex(),
        "file": str(path),
    }


@keys_group.command("new")
@click.argument("name")
@click.option(
    "--crypto",
    type=click.Choice(["ed25519", "sm"]),
    default="ed25519",
    show_default=True,
    help="Crypto suite of the key (must match the chain's).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the key file [default: ./NAME.key].",
)
@json_option
def new_cmd(name: str, crypto: str, out: Path | None, as_json: bool) -> None:
    """Create a key named NAME and write it to a new key file (never overwrites)."""
    path = out or Path(f"{name}.key")
    if path.exists():
        fail(f"{path} already exists; choose another --out (key files are never overwritten)")
    keypair = get_suite(crypto).generate()
    try:
        write_key(path, keypair, name)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    info = _info(path)
    if as_json:
        echo_json(info)
        return
    click.echo(f"Created {crypto} key {name!r} in {path} (keep it private)")
    click.echo(f"  address     {info['address']}")
    click.echo(f"  public key  {info['public_key']}")
    click.echo(
        "An organisation admin registers it with: xinlian tx send --key ADMIN.key "
        "--target identity --method register_account --args "
        f'\'{{"public_key": "hex:{info["public_key"]}", "name": "{name}", '
        '"roles": ["writer"]}\''
    )


@keys_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def show_cmd(file: Path, as_json: bool) -> None:
    """Show the name, suite, address and public key of a key file (not the private key)."""
    info = _info(file)
    if as_json:
        echo_json(info)
        return
    for field in ("name", "suite", "address", "public_key", "file"):
        click.echo(f"{field:<11} {info[field]}")


@keys_group.command("list")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@json_option
def list_cmd(directory: Path, as_json: bool) -> None:
    """List the key files (*.key) in DIRECTORY."""
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    infos: list[dict[str, Any]] = []
    problems: list[str] = []
    notes: list[str] = []
    for path in sorted(directory.glob("*.key")):
        if _is_pem(path):  # e.g. the TSA CA key of a network made by an older release
            notes.append(f"{path.name} is a PEM key (not an account key); not listed")
            continue
        try:
            infos.append(_info(path))
        except XinlianError as exc:
            problems.append(str(exc))
    if as_json:
        echo_json(infos)
    elif not infos:
        click.echo(f"no key files in {directory}")
    else:
        width = max(len(i["name"]) for i in infos)
        for info in infos:
            click.echo(
                f"{info['name']:<{width}}  {info['suite']:<7}  {info['address']}  "
                f"{Path(info['file']).name}"
            )
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


def _is_pem(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(64).lstrip().startswith(b"-----BEGIN")
    except OSError:
        return False
