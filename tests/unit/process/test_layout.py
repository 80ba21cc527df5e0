"""The shape of the code: small modules and no import cycles in either package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2].parent
PACKAGES = ("voxtrald", "tray")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules this one imports, late imports inside functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def test_no_module_is_over_the_size_limit() -> None:
    big = {name: n for name, path in modules().items()
           if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert big == {}, f"modules over {MAX_LINES} lines: {big}"


def test_there_are_no_import_cycles() -> None:
    mods = modules()
    graph = {name: imports_of(name, path, set(mods)) for name, path in mods.items()}
    # A package's __init__ importing its own submodules is not a cycle worth reporting.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", ["voxtrald.daemon"])
def test_the_wiring_module_stays_small(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= 200, f"{name} has {lines} lines; it should only wire the parts"


def area_of(name: str) -> str:
    """The architectural part a module belongs to: its folder, or "top" for the process."""
    parts = name.split(".")
    if parts[0] == "tray":
        return "tray"
    if len(parts) > 2 or (len(parts) == 2 and (ROOT / "voxtrald" / parts[1]).is_dir()):
        return parts[1]
    return "top"


# What each part may import besides itself. The store and the transcripts know nothing of
# jobs or the API; the worker child (engine) knows nothing of the daemon's side; the tray
# sees the daemon only through the client and the shared names.
LAYERS: dict[str, set[str]] = {
    "store": {"files", "top", "transcripts", "_platform"},
    "transcripts": {"files", "top"},
    "models": {"files", "top", "_platform"},
    "worker": {"_platform", "top", "transcripts", "files"},
    "engine": {"_platform", "files", "memory", "models", "top", "transcripts", "worker"},
    "tray": {"_platform", "client", "files", "service", "top"},
}


@pytest.mark.parametrize("part", sorted(LAYERS))
def test_each_part_imports_only_the_layers_below_it(part: str) -> None:
    mods = modules()
    crossing = sorted(
        f"{name} -> {target}"
        for name, path in mods.items() if area_of(name) == part
        for target in imports_of(name, path, set(mods))
        if area_of(target) != part and area_of(target) not in LAYERS[part]
    )
    assert crossing == [], f"{part}/ reaches past its layer:\n" + "\n".join(crossing)
