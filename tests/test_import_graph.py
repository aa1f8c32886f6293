"""The import graph of embedforge has no cycle, and the core imports no producer.

The graph is built from the source with an AST walk (``grimp`` is not a
dependency): every ``import`` and ``from ... import`` anywhere in a module,
including inside functions and ``if TYPE_CHECKING`` blocks, plus
``importlib.import_module("embedforge....")`` calls with a literal name.  An
edge goes to the module named (``from embedforge.text import fasttext`` goes to
``embedforge.text.fasttext``; ``from embedforge.text.fasttext import FastText``
too), not to the parent packages Python also initialises, as grimp does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import embedforge
import embedforge.encoders
import embedforge.search
import embedforge.search.encoders

SRC = Path(embedforge.__file__).parent

# The core every other module builds on: it may import only itself (and the standard
# library and third-party packages), never a producer or consumer of embeddings.
CORE = {
    "embedforge._io",
    "embedforge._linalg",
    "embedforge._registry",
    "embedforge._validation",
    "embedforge._word2vec_format",
    "embedforge.embeddings",
    "embedforge.encoders",
    "embedforge.errors",
}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package ``__init__``)."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _import_module_target(node: ast.Call) -> str | None:
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )
    if named and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def import_graph() -> dict[str, set[str]]:
    """Each embedforge module -> the embedforge modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.append(child if child in modules else base)
            elif isinstance(node, ast.Call):
                target = _import_module_target(node)
                targets = [target] if target else []
            graph[name].update(t for t in targets if t in modules)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_walk_sees_module_level_and_function_level_imports():
    graph = import_graph()
    assert "embedforge.embeddings" in graph["embedforge.formats"]  # module level
    assert "embedforge.formats" in graph["embedforge.text.fasttext"]  # inside load_facebook
    assert "embedforge.text.word2vec" in graph["embedforge.text"]  # from .word2vec import ...
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_has_no_cycle():
    assert find_cycle(import_graph()) is None


def test_the_core_imports_only_the_core():
    graph = import_graph()
    for module in sorted(CORE & set(graph)):
        assert graph[module] <= CORE, (module, sorted(graph[module] - CORE))


def test_embeddings_imports_neither_formats_nor_a_producer():
    imported = import_graph()["embedforge.embeddings"]
    assert "embedforge.formats" not in imported
    assert not {m for m in imported if m.startswith(("embedforge.text", "embedforge.search"))}


def test_the_encoder_protocol_lives_in_the_core_and_is_re_exported():
    assert embedforge.Encoder is embedforge.encoders.Encoder
    assert embedforge.search.Encoder is embedforge.encoders.Encoder
    assert embedforge.search.encoders.Encoder is embedforge.encoders.Encoder
    tfidf = embedforge.TfIdf().fit(["the first text", "a second text"])
    assert isinstance(tfidf, embedforge.Encoder)
    assert not isinstance(embedforge.ScalarQuantizer(), embedforge.Encoder)
