"""Dependencies run one way: recommender → shop → core, and nothing served imports ``training``.

Read from the source (every ``import`` statement, also those inside functions), so an import placed
inside a function to dodge a loop is caught as well."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVED = ("config", "core", "shop", "recommender")


def _imports(package: str, *, names: bool = False) -> list[tuple[str, int, str]]:
    """``(file, line, imported module)`` for every import in the package's Python files; with ``names``,
    also ``module.name`` for each name of a ``from module import name`` (which may be a module)."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.lineno, node.module))
                if names:
                    found.extend(
                        (str(path.relative_to(ROOT)), node.lineno, f"{node.module}.{alias.name}")
                        for alias in node.names
                    )
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


def _django_side(file: str) -> bool:
    """A module of the recommender's Django side: not ``recommender/ml``, not the door itself."""
    return not file.startswith(("recommender/ml/", "recommender/inference"))


def _model_door_offenders() -> list[str]:
    return sorted(
        {
            f"{file}:{line} imports {module}"
            for file, line, module in _imports("recommender", names=True)  # ``from recommender import ml`` too
            if _django_side(file) and (module == "recommender.ml" or module.startswith("recommender.ml."))
        }
    )


def test_the_django_side_reaches_the_models_only_through_inference():
    """``recommender/inference`` is the one door to ``recommender/ml``: services, selectors, views, the
    admin, tasks and commands ask it for models and helpers, never ``recommender.ml`` itself."""
    assert _model_door_offenders() == []


def test_the_model_door_checker_finds_a_direct_import(tmp_path, monkeypatch):
    """The measure must be able to fail: a selector importing ``recommender.ml`` is found, the door is not."""
    (tmp_path / "recommender" / "selectors").mkdir(parents=True)
    (tmp_path / "recommender" / "selectors" / "mod.py").write_text(
        "def f():\n    from recommender.ml.colour.lab import delta_e_2000\n"
    )
    (tmp_path / "recommender" / "views.py").write_text("from recommender import ml\n")
    (tmp_path / "recommender" / "inference.py").write_text("from recommender.ml.weights import WeightsError\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _model_door_offenders() == [
        "recommender/selectors/mod.py:2 imports recommender.ml.colour.lab",
        "recommender/selectors/mod.py:2 imports recommender.ml.colour.lab.delta_e_2000",
        "recommender/views.py:1 imports recommender.ml",
    ]


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        # The selectors compute; they know nothing of the cache that wraps them.
        ("recommender/selectors/complements.py", ("recommender.selectors.freshness", "recommender.selectors.cached")),
        ("recommender/selectors/similar.py", ("recommender.selectors.freshness", "recommender.selectors.cached")),
        # The cache is given compute functions and keys: it never calls back up into the selectors.
        (
            "recommender/selectors/freshness.py",
            ("recommender.selectors.complements", "recommender.selectors.similar", "recommender.selectors.cached"),
        ),
    ],
)
def test_the_result_cache_wraps_the_selectors_and_never_calls_back_into_them(module, forbidden):
    found = [f"{file}:{line} imports {name}" for file, line, name in _imports("recommender") if file == module]
    assert [line for line in found if line.split(" imports ")[1].startswith(forbidden)] == []


def test_the_checker_sees_imports_inside_functions(tmp_path, monkeypatch):
    """The measure must be able to fail: an import inside a function is found."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    from training.gpu import packs\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _offenders(("pkg",), ("training",)) == ["pkg/mod.py:2 imports training.gpu"]
