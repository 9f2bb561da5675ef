"""Write the intersphinx inventories the docs link with, for a build offline.

The docs are built where scikit-learn's, NumPy's and Python's sites cannot be
reached, so the inventories of the objects skae's pages reference are kept
here, each pointing at the page the live inventory points at. Run this after
adding a reference to another project: ``python docs/_inventories/make_inventories.py``.
"""

# License: BSD-3-Clause

import zlib
from pathlib import Path

API = "modules/generated/$.html#$"  # "$": the object's name

INVENTORIES = {
    "sklearn": [
        *(
            (name, "py:class", API)
            for name in (
                "sklearn.pipeline.Pipeline",
                "sklearn.preprocessing.MinMaxScaler",
                "sklearn.preprocessing.StandardScaler",
                "sklearn.preprocessing.Normalizer",
                "sklearn.neural_network.MLPRegressor",
                "sklearn.neural_network.MLPClassifier",
                "sklearn.model_selection.GridSearchCV",
                "sklearn.ensemble.IsolationForest",
                "sklearn.decomposition.PCA",
                "sklearn.decomposition.TruncatedSVD",
                "sklearn.linear_model.LogisticRegression",
                "sklearn.callback.ProgressBar",
                "sklearn.callback.ScoringMonitor",
                "sklearn.exceptions.ConvergenceWarning",
                "sklearn.covariance.EllipticEnvelope",
                "sklearn.cluster.KMeans",
                "sklearn.base.OutlierMixin",
                "sklearn.utils.metadata_routing.MetadataRequest",
            )
        ),
        ("sklearn.set_config", "py:function", API),
        ("sklearn.config_context", "py:function", API),
        ("sklearn.metrics.pairwise_distances_chunked", "py:function", API),
        ("sklearn.model_selection.cross_val_score", "py:function", API),
        ("sklearn.callback", "py:module", "api/sklearn.callback.html#module-$"),
        ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
        (
            "df_output_transform",
            "std:label",
            "modules/df_output_transform.html#df-output-transform",
        ),
        (
            "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
            "std:label",
            "auto_examples/miscellaneous/plot_set_output.html"
            "#sphx-glr-auto-examples-miscellaneous-plot-set-output-py",
        ),
        ("meta-estimator", "std:term", "glossary.html#term-meta-estimator"),
    ],
    "numpy": [
        ("numpy.memmap", "py:class", "reference/generated/$.html#$"),
        ("numpy.ndarray", "py:class", "reference/generated/$.html#$"),
    ],
    "python": [
        ("time.perf_counter", "py:function", "library/time.html#$"),
        ("pickle", "py:module", "library/pickle.html#module-$"),
    ],
    "joblib": [("joblib", "py:module", "index.html#module-$")],
}

# std:label entries show a title; the others their name ("-")
TITLES = {
    "metadata_routing": "Metadata Routing",
    "df_output_transform": "Pandas/Polars Output for Transformers with set_output API",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "Introducing the set_output API"
    ),
}


def write(project, entries, directory):
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: stable\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [
        f"{name} {kind} {-1 if kind.startswith('std') else 1} "
        f"{uri.replace('$', name)} {TITLES.get(name, '-')}"
        for name, kind, uri in entries
    ]
    body = zlib.compress(("\n".join(lines) + "\n").encode())
    (directory / f"{project}.inv").write_bytes(header.encode() + body)


if __name__ == "__main__":
    here = Path(__file__).parent
    for project, entries in INVENTORIES.items():
        write(project, entries, here)
