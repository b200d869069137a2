"""The README and the pages under ``docs/`` say what the code does.

The README's commands, subcommand list, demo table, benchmark block and Python examples are
checked against the parser, ``results/``, ``benchmarks/readme_table.py`` and a run of the
examples; ``docs/architecture.md``'s layer table against ``tests/test_layers.py``; every
relative link and every file the code map names must exist.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from _weights import needs_i3d
from test_layers import ALLOWED, RANK

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text()
DOCS = sorted((REPO / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def section(text: str, title: str) -> str:
    """The body of the markdown section headed ``title`` (up to the next heading of its level)."""
    m = re.search(rf"^(#+) {re.escape(title)}\n", text, re.M)
    assert m, f"no section {title!r}"
    level = len(m.group(1))
    rest = text[m.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def test_quickstart_is_the_command_ci_runs():
    block = FENCE.search(section(README, "Quickstart"))
    commands = [ln.split("#")[0].strip() for ln in block.group(2).splitlines()]
    assert commands == ["tools/install-system-packages", "python3 -m pip install tox",
                        "tox -e demo", "tox"]
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.index("tools/install-system-packages") < ci.index("python3 -m tox")
    assert "python3 -m pip install -q tox" in ci and "python3 -m tox" in ci


def test_the_command_line_tour_names_every_subcommand():
    from vidbench.cli import build_parser

    def subcommands(parser) -> dict:
        for action in parser._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                return action.choices
        return {}

    tour = section(README, "The command line")
    rows = [ln for ln in tour.splitlines() if ln.startswith("| `vidbench ")]
    named = {ln.split("`")[1].split()[1]: ln for ln in rows}
    top = subcommands(build_parser())
    assert set(named) == set(top)
    for name in ("eval", "train", "weights", "ref"):
        first_cell = named[name].split("`")[1]
        for sub in subcommands(top[name]):
            assert sub in first_cell.replace("\\|", " ").split(), (name, sub)


def test_the_demo_table_is_the_measured_one():
    """The README's demo table is the FVD block of results/demo/table.txt, row for row: mean ±
    std and the value at each sampling seed."""
    number = r"\d+\.\d+"
    fvd_row = rf"(.+?)\s{{2,}}({number} ± {number})" + rf"\s+({number})" * 3 + r"\b"
    measured = {}
    for line in (REPO / "results" / "demo" / "table.txt").read_text().splitlines():
        m = re.match(fvd_row, line)
        if m:
            measured[m.group(1).strip()] = list(m.groups()[1:])
    shown = {}
    for row in re.findall(r"^\| (.+) \|$", section(README, "What the demo shows"), re.M):
        label, *cells = [c.strip() for c in row.split(" | ")]
        if re.fullmatch(rf"{number} ± {number}", cells[0]):
            shown[re.sub(r" \(σ = .*\)$", "", label)] = cells
    assert len(measured) == 8 and shown == measured
    assert "do not reproduce the paper's ranking" in " ".join(
        section(README, "What the demo shows").split())


def test_the_benchmark_block_is_what_the_summary_generates():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_table",
                                                  REPO / "benchmarks" / "readme_table.py")
    readme_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_table)
    assert README.count(readme_table.BEGIN) == 1 and README.count(readme_table.END) == 1
    summary = json.loads((REPO / "results" / "bench" / "summary.json").read_text())
    block = README.split(readme_table.BEGIN, 1)[1].split(readme_table.END, 1)[0]
    assert block.strip() == readme_table.render_readme_table(summary).strip()


def test_every_relative_link_resolves():
    missing = []
    for page in [REPO / "README.md", *DOCS]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.match(r"[a-z]+://", target) and not (page.parent / target).exists():
                missing.append(f"{page.relative_to(REPO)}: {target}")
    assert not missing, missing


def test_the_layer_table_is_the_one_the_layer_test_enforces():
    table = ARCHITECTURE.split("<!-- layers:begin", 1)[1].split("<!-- layers:end", 1)[0]
    rows = [[c.strip() for c in ln.strip("|").split("|")]
            for ln in table.splitlines() if re.match(r"\| \d", ln)]
    assert {row[1].strip("`") for row in rows} == set(RANK)
    for rank, layer, _folder, may in rows:
        layer = layer.strip("`")
        assert int(rank) == RANK[layer], layer
        named = set(re.findall(r"`([\w.]+)`", may)) & set(RANK)
        if layer in ALLOWED:
            assert may.startswith("only ") and named == ALLOWED[layer], layer
        elif layer == "vidbench":          # the package __init__ (test_layers' special case)
            assert named == {"vidbench.utils"}
        elif may == "everything":
            assert RANK[layer] == max(RANK.values()), layer
        else:
            assert may == f"rank {RANK[layer]} and below", layer


def test_the_code_map_names_files_that_exist():
    """Every path in docs/architecture.md exists."""
    current = ARCHITECTURE
    paths = set(re.findall(r"`((?:vidbench|models|metrics|baselines|benchmarks|tests|results|tools)"
                           r"/[\w/.-]*)`", current))
    assert len(paths) > 40
    assert not sorted(p for p in paths if not (REPO / p).exists())
    for hop in ("vidbench/commands/train_motion.py", "vidbench/train/motion.py",
                "vidbench/commands/eval_fvd.py", "vidbench/evaluation/fvd.py",
                "metrics/stats.py", "metrics/frechet.py", "vidbench/commands/table.py",
                "vidbench/report/tables.py"):
        assert f"`{hop}`" in current, hop


def _python_examples() -> list:
    """(code, expected stdout) of every ```python block that a ```text block follows."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(section(README, "Python API"))]
    examples = []
    for (lang, code), (next_lang, out) in zip(blocks, blocks[1:]):
        if lang == "python" and next_lang == "text":
            needs = [pytest.mark.slow, needs_i3d] if "tf-reference" in code else []
            examples.append(pytest.param(code, out, marks=needs))
    return examples


@pytest.mark.parametrize("code, expected", _python_examples())
def test_the_python_examples_print_what_the_readme_says(code, expected, vidbench_home):
    from vidbench.metrics.frechet import FewSamplesWarning

    out = io.StringIO()
    few = pytest.warns(FewSamplesWarning) if "tf-reference" in code else contextlib.nullcontext()
    with contextlib.redirect_stdout(out), few:     # the README says it warns of too few clips
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == expected


def test_there_are_two_python_examples():   # the API and the torchmetrics class
    assert len(_python_examples()) == 2
