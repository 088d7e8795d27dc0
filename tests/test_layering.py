"""The import layering of DESIGN.md, checked by parsing imports (no execution)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_kernels_never_import_the_library():
    for path in (ROOT / "kernels").glob("*.py"):
        for name in _imports(path):
            assert not name.startswith("autograd_nn"), f"{path.name} imports {name}"
            assert not name.startswith(".."), f"{path.name} imports {name}"


def test_nn_never_imports_kernels_and_runtime_never_imports_torch():
    for path in (ROOT / "autograd_nn").rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] != "torch", f"{path} imports torch"
            if "nn" in path.relative_to(ROOT / "autograd_nn").parts[:1]:
                assert "kernels" not in name, f"{path} imports {name}"
