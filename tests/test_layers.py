"""The package's layers, read from the source: imports run one way, never in
a circle, and estimator modules never import each other.

Every import counts, at module level or inside a function, read with
:mod:`ast` (importing the modules would show only what ran).
"""

# License: BSD-3-Clause

import ast
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import skae

PACKAGE = Path(skae.__file__).resolve().parent

# bottom first; a module belongs to the layer of its longest matching name
LAYERS = (
    # the one module every layer may raise from: it imports nothing of skae
    ("skae.exceptions",),
    # the lecture's mathematics on one flat parameter vector
    ("skae._math",),
    # the machinery that trains it
    ("skae._training",),
    # the estimators: their shared bases and one module each
    ("skae._estimators",),
    # what is built from the estimators: the outlier detector, the scorer
    ("skae._applications",),
    # integrations with other projects (ONNX), for the public modules
    ("skae._integrations",),
    # the public modules users import
    ("skae", "skae.__main__", "skae.activations", "skae.onnx", "skae.plotting"),
)


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name, path, modules):
    """The skae modules that ``name`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from a import b``: the submodule a.b where there is one
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # ``import skae.x.y`` names the module skae.x.y (the parents it
            # imports on the way are packages, not dependencies)
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.startswith("skae") and target != name:
                found.add(target)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(name):
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (rank, prefix)
    return best


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan's
    algorithm), and the modules that import themselves."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    """A private module sits in a layer's folder, not beside the public ones."""
    public = set(LAYERS[-1])
    stray = [
        name
        for name in _modules()
        if _layer(name) is None or (_layer(name)[1] == "skae" and name not in public)
    ]
    assert stray == [], f"modules in no layer's folder: {stray}"


def test_no_import_climbs_a_layer():
    climbing = [
        f"{name} (layer {_layer(name)[0]}) imports {target} (layer {_layer(target)[0]})"
        for name, targets in _graph().items()
        for target in sorted(targets)
        if _layer(name) and _layer(target) and _layer(target)[0] > _layer(name)[0]
    ]
    assert climbing == [], "\n".join(climbing)


def test_no_import_circle():
    assert _cycles(_graph()) == []


def test_estimator_modules_never_import_each_other():
    """The estimators' modules import their shared bases, never another
    estimator's module. (The outlier detector, which wraps any reconstruction
    model and defaults to an AutoEncoder, is built from them a layer above, as
    scikit-learn's meta-estimators are.)"""
    defining = {
        getattr(skae, name).__module__
        for name in skae.__all__
        if isinstance(getattr(skae, name), type)
        and issubclass(getattr(skae, name), BaseEstimator)
        and _layer(getattr(skae, name).__module__)[1] == "skae._estimators"
    }
    assert len(defining) >= 3  # one module per estimator
    graph = _graph()
    crossing = [
        f"{name} imports {target}"
        for name in sorted(defining)
        for target in sorted(graph[name] & defining)
    ]
    assert crossing == [], "\n".join(crossing)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import skae._math.network\n", {"skae._math.network"}),
        ("from skae._math import network\n", {"skae._math.network"}),
        ("from skae._math.network import Network\n", {"skae._math.network"}),
        ("from ..network import Network\n", {"skae._math.network"}),
        ("from .. import network\n", {"skae._math.network"}),
        ("def f():\n    from skae._training.run import X\n", {"skae._training.run"}),
        ("import numpy\nfrom sklearn.base import clone\n", set()),
    ],
)
def test_imports_are_read_in_every_form(tmp_path, source, expected):
    """The reader resolves absolute, relative and function-level imports (on a
    made-up module ``skae._math.sub.mod``)."""
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    modules = {
        "skae",
        "skae._math",
        "skae._math.network",
        "skae._math.sub",
        "skae._math.sub.mod",
        "skae._training",
        "skae._training.run",
    }
    assert _imports("skae._math.sub.mod", path, modules) == expected


def test_a_circle_and_a_climbing_import_are_found():
    graph = {
        "skae._estimators.base": {"skae._training.pretraining"},
        "skae._training.pretraining": {"skae._estimators.base"},
        "skae._math.network": set(),
    }
    assert _cycles(graph) == [["skae._estimators.base", "skae._training.pretraining"]]
    assert _layer("skae._training.pretraining")[0] < _layer("skae._estimators.base")[0]
