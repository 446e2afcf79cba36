"""The import graph of reviewbot and its bundled rules: every module imports only from
its own layer or the layers below it, the graph has no cycle, and no module imports
another's private (underscore) name.

Every import counts: at module level, inside functions, and under ``TYPE_CHECKING``.
The modules are read with ``ast`` (nothing is imported); ``rules/`` is read as the
package it is installed as, ``reviewbot.rules``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Bottom to top; a module belongs to the layer of its longest matching prefix.
LAYERS: tuple[tuple[str, ...], ...] = (
    # foundations: errors, paths, limits, git config, printing and TOML helpers
    ("reviewbot", "reviewbot.errors", "reviewbot.xdg", "reviewbot.limits",
     "reviewbot.gitconfig", "reviewbot.printable", "reviewbot.progress", "reviewbot.streams",
     "reviewbot.signals", "reviewbot.tomlread"),
    # the models and the rule vocabulary
    ("reviewbot.diff.model", "reviewbot.series.model", "reviewbot.cmap.model",
     "reviewbot.engine.vocab", "reviewbot.findings", "reviewbot.revisions.model"),
    # building the models: diffs, mails and series, the C mapping; the configuration
    ("reviewbot.diff", "reviewbot.series", "reviewbot.cmap", "reviewbot.config",
     "reviewbot.userconfig"),
    # what rules know beyond one patch: the whole series' symbols, a kernel tree's
    # knowledge index; the per-patch analysis and the rule engine (which receives the
    # checks)
    ("reviewbot.seriesmap", "reviewbot.knowledge", "reviewbot.analysis", "reviewbot.engine"),
    # the rules, the bundled rules' registry, selecting the rules of a run
    ("reviewbot.rules", "reviewbot.ruleset", "reviewbot.selection"),
    # input, revisions, and the pipeline
    ("reviewbot.fetch", "reviewbot.tree", "reviewbot.revisions", "reviewbot.workers",
     "reviewbot.pipeline"),
    # above the pipeline: the example runner, evaluation, reports, the bot
    ("reviewbot.examples", "reviewbot.evaluate", "reviewbot.report", "reviewbot.bot"),
    # the command line (the index command's handler too)
    ("reviewbot.cli", "reviewbot.__main__", "reviewbot.knowledge.cli"),
)


def _modules() -> dict[str, Path]:
    """Every module of the product, by its import name."""
    out: dict[str, Path] = {}
    for base, prefix in ((ROOT / "reviewbot", ("reviewbot",)),
                         (ROOT / "rules", ("reviewbot", "rules"))):
        for path in base.rglob("*.py"):
            parts = [*prefix, *path.relative_to(base).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _package(name: str) -> str:
    return name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in module ``name``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package(name).split(".")
                anchor = package[:len(package) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                out.append((full, None, node.lineno) if full in MODULES
                           else (base, a.name, node.lineno))
    return [(m, n, line) for m, n, line in out if m == "reviewbot"
            or m.startswith("reviewbot.")]


def _layer(name: str) -> int:
    best, found = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    assert found is not None, f"{name} is in no layer: add it to LAYERS"
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        targets = set()
        for module, _, _ in _imports(name):
            # ``from reviewbot.x import y`` of a package's name: the package's __init__
            while module not in MODULES and "." in module:
                module = module.rpartition(".")[0]
            if module in MODULES and module != name:
                targets.add(module)
        graph[name] = targets
    return graph


def test_every_module_is_in_a_layer() -> None:
    assert len(MODULES) > 80
    for name in MODULES:
        _layer(name)


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = []
    for name in sorted(MODULES):
        for module, _, line in _imports(name):
            if _layer(module) > _layer(name):
                wrong.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {name} "
                             f"(layer {_layer(name)}) imports {module} "
                             f"(layer {_layer(module)})")
    assert wrong == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_private_name_is_imported_from_another_module() -> None:
    wrong = [f"{MODULES[name].relative_to(ROOT)}:{line}: {module}.{imported}"
             for name in sorted(MODULES) for module, imported, line in _imports(name)
             if imported is not None and imported.startswith("_")
             and not imported.endswith("__") and module != name]
    assert wrong == []


def test_the_checker_sees_what_it_must() -> None:
    """The reading itself: imports in functions and under TYPE_CHECKING, relative ones."""
    def imported(name: str) -> set[str]:
        return {m for m, _, _ in _imports(name)}

    assert "reviewbot.cmap.rows" in imported("reviewbot.cmap.parser")  # TYPE_CHECKING
    assert "reviewbot.tree.apply" in imported("reviewbot.pipeline")  # in a function
    assert any(m == "reviewbot.rules.style.blank_lines"  # relative
               for m, _, _ in _imports("reviewbot.rules.style.multiple_blank_lines.check"))


def test_every_setting_is_read_somewhere() -> None:
    """A ``Settings`` field that nothing reads is dead code a user may still set through
    an option (``use_cache`` was one: ``--no-cache`` belongs to the thread cache,
    ``LoreOptions``). Each field is read as ``.name`` outside its definition."""
    import dataclasses

    from reviewbot.config import Settings

    sources = {p: p.read_text() for p in (ROOT / "reviewbot").rglob("*.py")}
    reads: set[str] = set()
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                reads.add(node.attr)
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert "use_cache" not in fields
    assert fields <= reads, sorted(fields - reads)


def test_every_module_level_function_is_used_by_the_product() -> None:
    """A function or class of reviewbot or of a rule that only the tests use is product
    API nobody needs (dead code the tests keep alive): each module-level one is used,
    as a name or an attribute, somewhere in reviewbot, the rules, the benchmarks or the
    fuzz target. Aside: what reviewbot finds by name (a rule's ``check`` and ``Params``,
    the console script's ``main``)."""
    found_by_name = {"check", "Params", "main"}
    used: set[str] = set()
    for base in ("reviewbot", "rules", "benchmarks", "fuzz"):
        for path in (ROOT / base).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    used.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    used.add(node.attr)
                elif isinstance(node, ast.ImportFrom):
                    used.update(a.name for a in node.names)
    unused = [f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}"
              for path in MODULES.values()
              for node in ast.parse(path.read_text(), str(path)).body
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
              and node.name not in used and node.name not in found_by_name]
    assert unused == []
