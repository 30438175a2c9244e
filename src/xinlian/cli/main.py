"""The ``xinlian`` command: create and run networks, manage keys, send and query.

Expected failures (a refused transaction, a missing key file, an unreachable node, a
proof that does not verify) print ``error: ...`` on stderr and exit with status 1,
without a traceback. Set ``XINLIAN_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from xinlian import __version__
from xinlian.cli.block import block_group, status_cmd
from xinlian.cli.common import EXPECTED_ERRORS
from xinlian.cli.contract import contract_group
from xinlian.cli.evidence import evidence_group
from xinlian.cli.governance import governance_group
from xinlian.cli.keys import keys_group
from xinlian.cli.network import init_cmd, up_cmd
from xinlian.cli.node import node_group
from xinlian.cli.query import query_group
from xinlian.cli.trace import trace_group
from xinlian.cli.tx import tx_group

__all__ = ["cli", "main"]


class FriendlyGroup(click.Group):
    """A group that reports expected errors as ``error: ...`` and exits with status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning expected errors into a one-line message."""
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as exc:
            if os.environ.get("XINLIAN_DEBUG"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except FileExistsError as exc:
            click.echo(f"error: {exc.filename or exc} already exists", err=True)
            ctx.exit(1)
        except PermissionError as exc:
            click.echo(f"error: permission denied: {exc.filename or exc}", err=True)
            ctx.exit(1)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=FriendlyGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="xinlian")
def cli() -> None:
    """Xinlian (信链): a consortium blockchain.

    \b
    Start a development network and watch it work:
      xinlian up
    Then, in another terminal:
      xinlian status
      xinlian tx send --key .xinlian/keys/org1-writer.key --target kv --method put \\
          --args '{"key": "hello", "value": "world"}'
      xinlian query state kv/hello

    Commands that talk to a node take --url (default $XINLIAN_URL or
    http://127.0.0.1:8545); read commands take --json for scripts.
    """


cli.add_command(init_cmd)
cli.add_command(up_cmd)
cli.add_command(node_group)
cli.add_command(keys_group)
cli.add_command(tx_group)
cli.add_command(query_group)
cli.add_command(block_group)
cli.add_command(status_cmd)
cli.add_command(evidence_group)
cli.add_command(governance_group)
cli.add_command(trace_group)
cli.add_command(contract_group)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``xinlian`` console script."""
    cli.main(args=argv, prog_name="xinlian")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
