"""The README's and the guides' walkthroughs run as written against a live network.

Each chosen section's shell commands run in order, in a directory where ``.xinlian`` is
the live network (what ``xinlian up`` would have created) and ``$XINLIAN_URL`` points at
its node; ``xinlian up`` itself is skipped (the network is already up). Python blocks run
with the node's URL in place of the default one. A guide whose commands stop working
fails here.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xinlian.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


@dataclass
class Block:
    lang: str
    text: str


def section(doc: str, heading: str) -> list[Block]:
    """The fenced blocks under ``heading`` (up to the next heading of the same level)."""
    text = (ROOT / doc).read_text()
    level = heading.split(" ", maxsplit=1)[0]
    start = text.index(f"\n{heading}\n")
    end = text.find(f"\n{level} ", start + len(heading) + 2)
    body = text[start : end if end != -1 else len(text)]
    return [Block(m.group(1), m.group(2)) for m in FENCE.finditer(body)]


def commands(block: Block) -> list[str]:
    """The command lines of a shell block: prompts stripped, continuations joined, output
    lines (in ``console`` blocks, those without ``$``) dropped."""
    lines = block.text.replace("\\\n", " ").splitlines()
    if block.lang == "console":
        return [line[2:] for line in lines if line.startswith("$ ")]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


class Shell:
    """Runs documented ``xinlian`` command lines in-process, in order."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.vars: dict[str, str] = {}
        self.ran: list[str] = []

    def run(self, line: str) -> str:
        for name, value in self.vars.items():
            line = line.replace(name, value)
        argv = shlex.split(line, comments=True)
        out_file = None
        if ">" in argv:
            at = argv.index(">")
            argv, out_file = argv[:at], argv[at + 1]
        if argv[:3] == ["python3", "-m", "xinlian"]:
            argv = ["xinlian", *argv[3:]]
        if argv[0] == "openssl":
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            self.ran.append(line)
            return done.stdout + done.stderr
        assert argv[0] == "xinlian", f"not an xinlian command: {line}"
        if argv[1] == "up":
            return ""  # the live network stands in for it
        result = CliRunner().invoke(cli, argv[1:], env={"XINLIAN_URL": self.url})
        assert "Traceback" not in result.output, line
        assert result.exit_code == 0, f"{line}\n{result.output}"
        if out_file is not None:
            Path(out_file).write_text(result.stdout)
        self.ran.append(line)
        return result.output


@pytest.fixture
def shell(live_node: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shell:
    (tmp_path / ".xinlian").symlink_to(live_node.layout.root)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XINLIAN_URL", live_node.url)
    return Shell(live_node.url)


def _python(block: Block, url: str) -> None:
    code = block.text.replace("http://127.0.0.1:8545", url)
    exec(compile(code, "<docs>", "exec"), {"__name__": "__docs__"})


def test_readme_use_it(shell: Shell) -> None:
    blocks = section("README.md", "## Use it")
    assert [b.lang for b in blocks] == ["bash", "python"]
    for line in commands(blocks[0]):
        shell.run(line)
    assert "世界" in shell.run("xinlian query state kv/hello")
    _python(blocks[1], shell.url)
    assert len(shell.ran) >= 4


def test_cli_quick_start(shell: Shell) -> None:
    (_, block) = section("docs/cli.md", "## Quick start")
    lines = commands(block)
    assert lines[0].startswith("xinlian status")
    for line in lines:
        out = shell.run(line)
    assert "kv/hello = world" in out and "verified" in out
    assert len(shell.ran) == 3


def test_contracts_first_contract(shell: Shell) -> None:
    source, commands_block = section("docs/contracts.md", "## A first contract")
    assert source.lang == "python" and commands_block.lang == "bash"
    Path("counter.py").write_text(source.text)
    for line in commands(commands_block):
        out = shell.run(line)
        deployed = re.search(r"^contract (c[0-9a-f]{40})$", out, re.M)
        if deployed:
            shell.vars["<address>"] = deployed.group(1)
    assert "<address>" in shell.vars
    assert [line.split()[2] for line in shell.ran] == [
        "check",
        "deploy",
        "call",
        "query",
        "events",
        "info",
        "client",
    ]
    assert "class " in Path("counter_client.py").read_text()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_evidence_walkthrough(shell: Shell, live_node: Any) -> None:
    """docs/evidence.md sections 2, 4 and 5 with the files they name."""
    Path("contract.pdf").write_bytes(b"%PDF-1.7 a contract\n" * 100)
    Path("photo.jpg").write_bytes(b"\xff\xd8 a photo" * 100)
    Path("deeds").mkdir()
    for i in range(3):
        (Path("deeds") / f"deed-{i}.pdf").write_bytes(f"deed {i}".encode() * 50)
    anchor, python = section("docs/evidence.md", "## 2. Anchor files")
    for line in commands(anchor):
        shell.run(line)
    # The Python example anchors the same file again (its first anchor stays) and writes
    # the receipt and the token; it reads the key from the working directory.
    shutil.copy(Path(".xinlian/keys/org1-writer.key"), "org1-writer.key")
    _python(python, shell.url)
    assert Path("contract.receipt.json").stat().st_size > 0
    # Section 4 hands out the receipt and the token, section 5 verifies them offline with
    # the trust anchors the third party was given.
    shell.vars["<digest>"] = hashlib.sha256(Path("contract.pdf").read_bytes()).hexdigest()
    (handout,) = section("docs/evidence.md", "## 4. Hand out a receipt and a time-stamp token")
    for line in commands(handout):
        shell.run(line)
    shutil.copy(Path(".xinlian/genesis.json"), "genesis.json")
    shutil.copy(Path(".xinlian/tsa-ca.pem"), "tsa-ca.pem")
    verify, verify_py = section("docs/evidence.md", "## 5. Verify offline (the third party)")
    outputs = [shell.run(line) for line in commands(verify)]
    assert "Verification: OK" in outputs[-1]
    _python(verify_py, shell.url)
    assert len(shell.ran) == 6
