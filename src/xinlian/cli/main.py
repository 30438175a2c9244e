"""The ``xinlian`` command: create and run networks, manage keys, send and query.

Expected failures (a refused transaction, a missing key file, an unreachable node, a
proof that does not verify, an invalid document) print one ``error: ...`` line on
stderr and exit with status 1, without a traceback. Anything else is a bug: it prints
``error: internal error: ...`` and exits with status 70; ``--debug`` (or
``XINLIAN_DEBUG=1``) shows the traceback instead.

Start-up is kept short: a command's module (and whatever it needs: the node, aiohttp,
the EPCIS schema, ...) is imported only when that command runs, so ``xinlian --help``
and ``xinlian status`` do not pay for the rest.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from xinlian import __version__

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "EXIT_USAGE",
    "EXPECTED_ERRORS",
    "cli",
    "is_expected",
    "main",
]

#: Exit status of an expected failure (``error: ...``).
EXIT_ERROR = 1
#: Exit status of a usage mistake (unknown option, missing argument, no such file).
EXIT_USAGE = 2
#: Exit status of an unexpected exception (a bug: ``error: internal error: ...``).
EXIT_INTERNAL = 70

#: The base error of every package a user can trigger through the CLI, by dotted name
#: (so checking an exception imports nothing). Each is reported as ``error: <message>``.
#: A test checks that every package's root exception is listed here or in
#: ``tests/unit/cli/test_cli_errors.py``'s short list of internal-only errors.
EXPECTED_ERRORS: tuple[str, ...] = (
    "xinlian.sdk.errors.XinlianError",
    "xinlian.node.keys.KeyFileError",
    "xinlian.node.config.ConfigError",
    "xinlian.node.chain.ChainError",
    "xinlian.node.network.NetworkExistsError",
    "xinlian.node.signer.SignerError",
    "xinlian.cli.cluster.ClusterError",
    "xinlian.crypto.suite.CryptoError",
    "xinlian.crypto._openssl.OpenSSLError",
    "xinlian.codec.canonical.CodecError",
    "xinlian.gs1.epcis.EpcisError",
    "xinlian.gs1.identifiers.IdentifierError",
    "xinlian.storage.base.StorageError",
    "xinlian.ledger.store.LedgerError",
    "xinlian.state.errors.StateError",
    "xinlian.apps.base.AppError",
    "xinlian.execution.errors.ExecutionError",
    "xinlian.mempool.pool.MempoolError",
    "xinlian.consensus.errors.ConsensusError",
    "xinlian.p2p.errors.P2PError",
    "xinlian.sync.catchup.SyncError",
    "xinlian.protocol.errors.ProtocolError",
)

#: Top-level commands: name -> (module, attribute, the one-line help ``--help`` lists).
#: The module is imported only when the command runs (a test checks the help lines).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "block": ("xinlian.cli.block", "block_group", "Look at blocks."),
    "contract": (
        "xinlian.cli.contract",
        "contract_group",
        "Deploy Python contracts, call and query them, read their events.",
    ),
    "evidence": (
        "xinlian.cli.evidence",
        "evidence_group",
        "Anchor file digests, look them up, fetch and verify receipts offline.",
    ),
    "governance": (
        "xinlian.cli.governance",
        "governance_group",
        "Propose and vote on consortium changes (validators, organisations, roles).",
    ),
    "init": (
        "xinlian.cli.network",
        "init_cmd",
        "Create a new network in DIRECTORY (default .xinlian): genesis, keys, node homes.",
    ),
    "keys": (
        "xinlian.cli.keys",
        "keys_group",
        "Create and inspect account keys (JSON key files, mode 0600).",
    ),
    "node": ("xinlian.cli.node", "node_group", "Run a node."),
    "query": (
        "xinlian.cli.query",
        "query_group",
        "Read state with proofs, call read-only methods, look up accounts.",
    ),
    "status": (
        "xinlian.cli.block",
        "status_cmd",
        "Show the node's chain, height, latest block and mempool.",
    ),
    "trace": (
        "xinlian.cli.trace",
        "trace_group",
        "Product traceability with GS1 EPCIS 2.0 events.",
    ),
    "tx": ("xinlian.cli.tx", "tx_group", "Send transactions and look them up."),
    "up": (
        "xinlian.cli.network",
        "up_cmd",
        "Run a local network: create it if needed (4 validators by default), start every "
        "node in its own process, and send a sample workload so you can watch blocks being "
        "committed.",
    ),
}


def is_expected(exc: BaseException) -> bool:
    """Whether ``exc`` is a user's or the environment's failure (not a bug)."""
    if isinstance(exc, OSError):
        return True
    names = {f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__}
    return not names.isdisjoint(EXPECTED_ERRORS)


def describe(exc: BaseException) -> str:
    """The one-line message for an expected failure."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file or directory"
    if isinstance(exc, FileExistsError) and exc.filename:
        return f"{exc.filename} already exists"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("XINLIAN_DEBUG", "") not in ("", "0")


class UsageFailure(click.ClickException):
    """A usage mistake (unknown option, missing argument, a file that does not exist),
    shown as one ``error: ...`` line and a pointer to the command's help (exit 2)."""

    exit_code = EXIT_USAGE

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message())
        path = error.ctx.command_path if error.ctx is not None else "xinlian"
        self.hint = f"(see `{path} --help`)"

    def show(self, file: Any = None) -> None:
        """Print ``error: <message>`` and the help pointer to stderr."""
        message = " ".join(self.format_message().split())
        click.echo(f"error: {message} {self.hint}", err=True)


class LazyGroup(click.Group):
    """The root command: imports a subcommand's module only when it runs, and turns
    exceptions into one ``error: ...`` line (never a traceback unless ``--debug``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted."""
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module on first use."""
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module, attribute, _ = entry
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{module}.{attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their one-line help, without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            entry = COMMANDS.get(name)
            if entry is not None:
                stand_in = click.Command(name, help=entry[2])
                rows.append((name, stand_in.get_short_help_str(limit)))
            else:  # pragma: no cover - every command is lazy today
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the root's options; a mistake is one ``error: ...`` line."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise UsageFailure(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; expected errors print ``error: ...`` (exit 1), anything else
        ``error: internal error: ...`` (exit 70), unless debugging."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise UsageFailure(exc) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (``xinlian ... | head``): stop quietly, as Unix tools do.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_ERROR)
        except Exception as exc:
            if _debug(ctx):
                raise
            if is_expected(exc):
                click.echo(f"error: {describe(exc)}", err=True)
                ctx.exit(EXIT_ERROR)
            click.echo(f"error: internal error: {type(exc).__name__}: {describe(exc)}", err=True)
            click.echo(
                "This is a bug in xinlian. Run the command again with --debug "
                "(or XINLIAN_DEBUG=1) to see the traceback, and report it.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="xinlian")
@click.option(
    "--debug",
    is_flag=True,
    help="Show Python tracebacks instead of one-line errors (env XINLIAN_DEBUG=1).",
)
def cli(debug: bool) -> None:
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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``xinlian`` console script."""
    cli.main(args=argv, prog_name="xinlian")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
