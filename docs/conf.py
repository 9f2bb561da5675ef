"""Sphinx configuration for skae's documentation."""

# License: BSD-3-Clause

import os

import skae

os.environ.setdefault("MPLBACKEND", "Agg")

project = "skae"
author = "the skae developers"
copyright = "the skae developers, BSD-3-Clause"
release = skae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax bundled into _static: formulas render in pages opened locally
    "sphinx-mathjax-offline",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# links to the projects skae builds on; the inventories are kept in the repo
# (docs/_inventories/make_inventories.py) since the build runs offline
intersphinx_mapping = {
    name: (url, f"_inventories/{name}.inv")
    for name, url in {
        "sklearn": "https://scikit-learn.org/stable/",
        "numpy": "https://numpy.org/doc/stable/",
        "python": "https://docs.python.org/3/",
        "joblib": "https://joblib.readthedocs.io/en/stable/",
    }.items()
}
nitpicky = True  # every reference resolves (CI builds with -n -W)

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
templates_path = ["_templates"]
# the theme of scikit-learn and most scikit-learn-contrib projects
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    # no version switcher until versions are published (it showed a bare
    # "Choose version" button)
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "navbar_persistent": ["search-button"],
    "icon_links": [],
    "show_toc_level": 2,
    "navigation_with_keys": False,
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # show printed output only, not the repr of a block's last expression
    # (the Text or Axes that a set_title or a suptitle returns)
    "capture_repr": (),
}


# the inherited public methods users call, listed on the API pages
_INHERITED = {
    "fit_transform",
    "fit_predict",
    "get_feature_names_out",
    "get_metadata_routing",
    "get_params",
    "set_callbacks",
    "set_fit_request",
    "set_output",
    "set_params",
    "set_partial_fit_request",
    "set_score_request",
}


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Document the methods skae writes and the inherited public methods
    users call; not scikit-learn's other mixin members."""
    if what != "class" or name in _INHERITED:
        return None
    defined = getattr(obj, "fget", obj)  # a property: where its getter is
    if not (getattr(defined, "__module__", None) or "").startswith("skae"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
