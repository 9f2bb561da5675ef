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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
templates_path = ["_templates"]
# the theme of scikit-learn and most scikit-learn-contrib projects
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_end": ["version-switcher", "theme-switcher", "navbar-icon-links"],
    "navbar_persistent": ["search-button"],
    "switcher": {
        # the slot for released versions: one entry per version once published
        "json_url": "_static/switcher.json",
        "version_match": release,
    },
    "check_switcher": False,  # built offline: nothing to fetch at build time
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
}


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Document the methods skae writes, not those scikit-learn's mixins add
    (their docstrings point into scikit-learn's own documentation)."""
    if what == "class" and not (getattr(obj, "__module__", None) or "").startswith(
        "skae"
    ):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
