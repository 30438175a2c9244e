"""``checker.problems``: every refusal of a source at once, agreeing with ``check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinlian.contracts import checker
from xinlian.contracts.errors import ContractRejected

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples" / "contracts").glob("*.py"))
HEAD = "from contract import export\n\n"
OK = "\n\n@export\ndef ok() -> int:\n    return 1\n"

SINGLE = [
    HEAD + "x = 1.5" + OK,
    HEAD + "x = {1, 2}" + OK,
    HEAD + "import os" + OK,
    HEAD + "class A:\n    pass" + OK,
    HEAD + "@export\ndef f(x) -> int:\n    return x" + OK,
    HEAD + "x = 1",
    HEAD + "x = 7 / 2" + OK,
    "def f(:\n",
]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_examples_have_no_problems(path: Path) -> None:
    assert checker.problems(path.read_text()) == []


@pytest.mark.parametrize("source", SINGLE)
def test_one_mistake_is_the_refusal_check_raises(source: str) -> None:
    with pytest.raises(ContractRejected) as refused:
        checker.check(checker.parse(source))
    found = checker.problems(source)
    assert len(found) == 1
    # Same reason; problems() also places line-less nodes (operators) on their line.
    assert str(found[0]).split(": ")[-1] == str(refused.value).split(": ")[-1]


def test_every_mistake_is_listed_in_line_order() -> None:
    source = HEAD + "x = 1.5\ny = {1}\n\n@export\ndef f() -> int:\n    return 3 / 2\n" + OK
    found = checker.problems(source)
    assert [(p.line, str(p).split(": ")[-1]) for p in found] == [
        (3, "floats are not allowed (not deterministic); use integers"),
        (4, "sets are not allowed (unordered iteration); use a dict or a sorted list"),
        (8, "true division '/' makes floats; use '//' (integer division)"),
    ]
