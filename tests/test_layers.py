"""The package's layers, enforced: every import edge (module level and inside functions) is
read from the source and checked against the table in ``docs/architecture.md``.

A module may import its own layer and the layers below it, minus the edges the architecture
forbids (networks import only ``vidbench.utils`` and ``vidbench.data``; metrics know nothing
of training, experiments, reports or commands; baselines only read data). No two files may
import each other, directly or through a chain, and no module imports another module's
``_private`` name.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# import name -> folder in the repository (pyproject's package-dir mapping)
ROOTS = {"vidbench.models": REPO / "models", "vidbench.metrics": REPO / "metrics",
         "vidbench.baselines": REPO / "baselines", "vidbench": REPO / "vidbench"}

# Layers from the bottom up; a module may import any layer at or below its own rank unless
# ALLOWED names the layers it may import.
RANK = {
    "vidbench.utils": 0,
    "vidbench.data": 1,
    "vidbench.models": 2,
    "vidbench.metrics": 3,
    "vidbench.baselines": 3,
    "vidbench.train": 4,
    "vidbench.sample": 5,
    "vidbench.evaluation": 6,
    "vidbench.report": 7,
    "vidbench.experiments": 8,
    "vidbench.commands": 9,
    "vidbench.cli": 9,
    "vidbench.__main__": 9,
    "vidbench": 9,
}
ALLOWED = {
    "vidbench.utils": {"vidbench.utils"},
    "vidbench.data": {"vidbench.utils", "vidbench.data"},
    "vidbench.models": {"vidbench.utils", "vidbench.data", "vidbench.models"},
    "vidbench.metrics": {"vidbench.utils", "vidbench.data", "vidbench.models", "vidbench.metrics"},
    "vidbench.baselines": {"vidbench.utils", "vidbench.data", "vidbench.baselines"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for name, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if name == "vidbench" and rel[0] in ("models", "metrics", "baselines"):
                continue
            parts = [p for p in rel if p != "__init__"]
            found[".".join([name, *parts])] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> str:
    best = ""
    for layer in RANK:
        if (module == layer or module.startswith(layer + ".")) and len(layer) > len(best):
            best = layer
    return best


def _resolve(name: str) -> str | None:
    """The repository module an imported dotted name lives in (longest prefix), or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in MODULES:
            return candidate
    return None


def _package_of(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]


def imports_of(module: str) -> list[tuple[str, int, list[str]]]:
    """(imported module, line, imported names) for every import in ``module``'s file."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    edges.append((target, node.lineno, []))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = _package_of(module).split(".")
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            for alias in node.names:
                sub = _resolve(f"{base}.{alias.name}")
                if sub == f"{base}.{alias.name}":        # `from pkg import submodule`
                    edges.append((sub, node.lineno, []))
                else:
                    target = _resolve(base)
                    if target:
                        edges.append((target, node.lineno, [alias.name]))
    return edges


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_layer_table_covers_every_module():
    assert len(MODULES) > 100
    assert not [m for m in MODULES if not layer_of(m)]


def test_no_import_crosses_a_forbidden_layer_edge():
    bad = []
    for module, edges in GRAPH.items():
        src = layer_of(module)
        for target, line, _ in edges:
            dst = layer_of(target)
            ok = dst in ALLOWED[src] if src in ALLOWED else RANK[dst] <= RANK[src]
            if src == "vidbench" and module == "vidbench":
                # the package's __init__ stays light: utils, and the Python API, whose module
                # level imports only the standard library (test_importing_vidbench_stays_light)
                ok = dst == "vidbench.utils" or target == "vidbench.api"
            if not ok:
                bad.append(f"{MODULES[module].relative_to(REPO)}:{line}: {module} ({src}) "
                           f"imports {target} ({dst})")
    assert not bad, "forbidden import edges:\n" + "\n".join(bad)


def test_no_module_imports_a_private_name_of_another():
    bad = [f"{MODULES[m].relative_to(REPO)}:{line}: {name} from {target}"
           for m, edges in GRAPH.items() for target, line, names in edges
           for name in names if name.startswith("_") and not name.startswith("__")
           and target != m]
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan)."""
    succ = defaultdict(set)
    for m, edges in GRAPH.items():
        for target, _, _ in edges:
            if target != m and not (MODULES[target].name == "__init__.py"
                                    and m.startswith(target + ".")):
                succ[m].add(target)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_files():
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("edge, expected", [
    (("vidbench.models.i3d", "vidbench.train.motion"), False),
    (("vidbench.metrics.fvd", "vidbench.experiments.specs"), False),
    (("vidbench.metrics.fvd", "vidbench.models.i3d"), True),
    (("vidbench.train.motion", "vidbench.models.motion"), True),
    (("vidbench.data.sources", "vidbench.baselines"), False),
])
def test_the_rule_itself(edge, expected):
    src, dst = (layer_of(m) for m in edge)
    ok = dst in ALLOWED[src] if src in ALLOWED else RANK[dst] <= RANK[src]
    assert ok is expected


def test_the_import_reader_sees_imports_inside_functions(tmp_path):
    module = "vidbench.data.sources"
    targets = {t for t, _, _ in imports_of(module)}
    tree = ast.parse(MODULES[module].read_text())
    nested = [n for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
              for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert nested, "this check needs a module with an import inside a function"
    for node in nested:
        names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        for name in names:
            if name and _resolve(name):
                assert _resolve(name) in targets or any(
                    t.startswith(name) for t in targets)


def test_importing_vidbench_stays_light():
    import subprocess
    import sys

    code = ("import sys, vidbench; vidbench.fvd; "
            "print(sorted(m for m in ('torch', 'numpy', 'vidbench.evaluation', 'vidbench.metrics')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
