"""The package's imports point one way: no file imports, at any depth of its code (function-level and
TYPE_CHECKING imports included), a file that imports it back, directly or round a circle."""

import ast
from pathlib import Path

import gan_lightning

PACKAGE = Path(gan_lightning.__file__).parent


def _module_file(name: str) -> Path | None:
    """The file of a dotted gan_lightning module name (a package's __init__.py), or None."""
    if not name.startswith("gan_lightning"):
        return None
    parts = name.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


def import_graph() -> dict[Path, set[Path]]:
    """file -> the gan_lightning files it imports anywhere in its code. ``from a.b import c`` counts
    as importing the module ``a.b.c`` when that is a file, else ``a.b``."""
    graph: dict[Path, set[Path]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        edges = graph.setdefault(path, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the file's own package
                    anchor = _package_of(path).split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [
                    f"{base}.{alias.name}" if _module_file(f"{base}.{alias.name}") else base for alias in node.names
                ]
            for name in names:
                target = _module_file(name)
                if target is not None and target != path:
                    edges.add(target)
    return graph


def find_circle(graph: dict[Path, set[Path]]) -> list[Path] | None:
    """One circle of the graph as a list of files (first == last), or None."""
    state: dict[Path, int] = {}  # 1: on the current path, 2: done
    stack: list[Path] = []

    def visit(node: Path) -> list[Path] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_reader_sees_function_level_imports():
    graph = import_graph()
    stages = PACKAGE / "modules" / "gan.py"
    assert PACKAGE / "noise.py" in graph[stages]  # a plain module-level import
    # commands/generate.py loads the modules inside a function (a checkpoint only): the edge is still seen
    assert PACKAGE / "modules" / "__init__.py" in graph[PACKAGE / "commands" / "generate.py"]


def test_no_file_imports_one_that_imports_it_back():
    circle = find_circle(import_graph())
    shown = " -> ".join(str(p.relative_to(PACKAGE.parent)) for p in circle or [])
    assert circle is None, f"import circle: {shown}"


def test_the_circle_finder_finds_a_circle():
    a, b, c = Path("a.py"), Path("b.py"), Path("c.py")
    assert find_circle({a: {b}, b: {c}, c: {a}}) == [a, b, c, a]
    assert find_circle({a: {b}, b: {c}, c: set()}) is None
