"""Dependencies run one way: recommender → shop → core, and nothing served imports ``training``.

Read from the source (every ``import`` statement, also those inside functions), so an import placed
inside a function to dodge a loop is caught as well."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVED = ("config", "core", "shop", "recommender")


def _imports(package: str) -> list[tuple[str, int, str]]:
    """``(file, line, imported module)`` for every import in the package's Python files."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.lineno, node.module))
    return found


def _offenders(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file}:{line} imports {module}"
        for package in packages
        for file, line, module in _imports(package)
        if module.split(".")[0] in forbidden
    ]


def test_served_code_never_imports_the_training_package():
    assert _offenders(SERVED, ("training",)) == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("core", ("shop", "recommender", "training")),
        ("shop", ("recommender", "training")),
    ],
)
def test_a_lower_layer_never_imports_a_higher_one(package, forbidden):
    assert _offenders((package,), forbidden) == []


def test_the_checker_names_an_upward_import(tmp_path, monkeypatch):
    """The layer rule can fail too: a shop module that imports the recommender is named."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text("import recommender.selectors\nfrom core.images import open_image\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _offenders(("shop",), ("recommender", "training")) == ["shop/views.py:1 imports recommender.selectors"]


def test_the_checker_sees_imports_inside_functions(tmp_path, monkeypatch):
    """The measure must be able to fail: an import inside a function is found."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    from training.gpu import packs\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _offenders(("pkg",), ("training",)) == ["pkg/mod.py:2 imports training.gpu"]
