"""The import layering of autograd_nn (docs/ARCHITECTURE.md), checked by parsing imports (no execution).

Layers, lowest first; a module may import its own layer and the layers below it, never one above:

    kernels <- base <- engine <- ops <- tensor <- functional <- distributed <- nn <- optim
            <- applications <- the package API (autograd_nn/__init__) <- examples <- the CLI

`LAYERS` below says which top-level module or subpackage of autograd_nn sits in which layer; a new
one must be placed there (the first test fails until it is). The layering holds for every import in
a module, including those inside functions and under `if TYPE_CHECKING:`: a lazy import changes
when a dependency is loaded, not which way it points.

Two more rules: the Numba kernels are imported only by `ops` (and import nothing of the library),
and `autograd_nn.examples` is imported only by the examples themselves and the CLI (`__main__`);
outside the library, only drivers (tests/, benchmarks/, scripts/, docs/, the notebooks) use it.

No import cycles among autograd_nn's modules at module level. Imports inside functions and under
`if TYPE_CHECKING:` are not part of that graph: they are the sanctioned ways to break a cycle (a
function-level import runs after both modules are loaded; a TYPE_CHECKING import never runs).
"""

import ast
import pathlib
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "autograd_nn"

# (layer name, top-level modules and subpackages of autograd_nn in it), lowest first.
LAYERS = [
    ("kernels", {"kernels"}),  # plain Numba array code (kernels/, installed as autograd_nn.kernels)
    (
        "base",
        {
            "errors",
            "version",
            "grad_mode",
            "dtypes",
            "shapes",
            "threads",
            "random",
            "devices",
            "runtime_flags",
            "amp",
            "backends",
            "cuda",
        },
    ),  # leaf utilities and device shims
    (
        "engine",
        {"function", "autograd", "inplace", "custom_function", "scopes", "anomaly", "profiler"},
    ),  # Function, the backward pass, the in-place rules, instruments
    ("ops", {"ops"}),  # Function subclasses: forward/backward on arrays
    ("tensor", {"_tensor", "linalg", "sparse", "gradcheck", "serialization", "serialization_zip"}),
    ("functional", {"functional"}),  # F.*: compositions of Tensor ops
    ("distributed", {"distributed"}),  # process groups, collectives, SyncBatchNorm's op
    ("nn", {"nn"}),  # Modules
    ("optim", {"optim"}),  # optimizers and schedulers
    ("applications", {"data", "training", "viz", "onnx", "explain", "distributions", "utils"}),
    ("api", {"__init__"}),  # autograd_nn/__init__.py: the package namespace
    ("examples", {"examples"}),
    ("cli", {"__main__"}),
]
RANK = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}
LAYER_NAME = {unit: name for name, units in LAYERS for unit in units}


def _modules() -> dict[str, pathlib.Path]:
    """Every module of the installed package by dotted name, the kernels as autograd_nn.kernels.*."""
    found = {}
    trees = [(PKG, ["autograd_nn"]), (ROOT / "kernels", ["autograd_nn", "kernels"])]
    for top, prefix in trees:
        for path in sorted(top.rglob("*.py")):
            if top == PKG and path.relative_to(PKG).parts[0] == "kernels":
                continue  # the symlink to ../kernels, listed from there
            parts = prefix + list(path.relative_to(top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _unit(module: str) -> str:
    """The top-level module or subpackage that `module` belongs to ('__init__' for the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """The import statements that run when the module is imported: not in functions, not under
    `if TYPE_CHECKING:` (class bodies, try/except and other if branches do run)."""
    out: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(node)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.With, ast.ClassDef)):
                visit(node.body)

    visit(tree.body)
    return out


def _targets(module: str, node: ast.stmt) -> list[str]:
    """The autograd_nn modules an import statement of `module` loads (the most specific that
    exists: `from . import x` names the submodule x when there is one)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            is_package = MODULES[module].name == "__init__.py"
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
    out = []
    for name in names:
        if name != "autograd_nn" and not name.startswith("autograd_nn."):
            continue
        while name not in MODULES:  # an attribute of a module, not a module
            name = name.rsplit(".", 1)[0]
        if name != module:
            out.append(name)
    return out


def _edges(module_level_only: bool) -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported module, line)} over the whole package."""
    edges: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        nodes = (
            _module_level(tree)
            if module_level_only
            else [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        )
        for node in nodes:
            for target in _targets(module, node):
                edges[module].add((target, node.lineno))
    return edges


def _imports(path: pathlib.Path) -> list[str]:
    """The names an arbitrary file imports, as written (relative ones with their dots)."""
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_every_module_has_a_layer():
    unplaced = sorted({_unit(m) for m in MODULES} - set(RANK))
    assert not unplaced, f"place these in LAYERS of tests/test_layering.py: {unplaced}"


def test_lower_layers_never_import_higher_ones():
    problems = []
    for module, targets in _edges(module_level_only=False).items():
        for target, line in sorted(targets):
            if RANK[_unit(target)] > RANK[_unit(module)]:
                problems.append(
                    f"{module} (layer {LAYER_NAME[_unit(module)]}) imports {target} "
                    f"(layer {LAYER_NAME[_unit(target)]}) at line {line}"
                )
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_kernels_never_import_the_library():
    for path in (ROOT / "kernels").glob("*.py"):
        for name in _imports(path):
            assert not name.startswith("autograd_nn"), f"{path.name} imports {name}"
            assert not name.startswith(".."), f"{path.name} imports {name}"


def test_only_ops_import_the_kernels():
    problems = [
        f"{module} imports {target} at line {line}"
        for module, targets in _edges(module_level_only=False).items()
        for target, line in sorted(targets)
        if _unit(target) == "kernels" and _unit(module) not in ("kernels", "ops")
    ]
    assert not problems, "kernels are imported only by autograd_nn.ops:\n" + "\n".join(problems)


def test_only_examples_and_the_cli_import_the_examples():
    problems = [
        f"{module} imports {target} at line {line}"
        for module, targets in _edges(module_level_only=False).items()
        for target, line in sorted(targets)
        if _unit(target) == "examples" and _unit(module) not in ("examples", "__main__")
    ]
    assert not problems, (
        "autograd_nn.examples is imported only by the examples and "
        "autograd_nn.__main__:\n" + "\n".join(problems)
    )


def _shortest_cycle(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One shortest cycle through the first module of a strongly connected component (breadth-first
    inside it), from that module back to itself: what to show instead of the whole component."""
    start = min(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if w in component and w not in parent and w != start:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(component)  # pragma: no cover - a component always has a cycle


def test_no_import_cycles_at_module_level():
    edges = {m: {t for t, _ in targets} for m, targets in _edges(module_level_only=True).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(_shortest_cycle(set(component), edges))

    for module in sorted(MODULES):
        if module not in index:
            strongconnect(module)
    assert not cycles, (
        "import cycles at module level (break one edge with an import inside the "
        "function that needs it, or under `if TYPE_CHECKING:` for annotations):\n"
        + "\n".join(" -> ".join(c) for c in cycles)
    )


def test_runtime_never_imports_torch():
    for path in PKG.rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] != "torch", f"{path} imports torch"
