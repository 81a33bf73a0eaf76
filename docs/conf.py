"""Sphinx configuration of flask-gravicors's docs.

Built by the test suite (tests/test_docs.py) with warnings as errors, the HTML
builder and the doctest builder (the code samples are run). Nothing is fetched at
build time: no intersphinx, no remote images; the diagrams are rendered by the local
Graphviz ``dot``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import flask_gravicors  # noqa: E402

project = "flask-gravicors"
author = "the flask-gravicors authors"
copyright = "the flask-gravicors authors"
release = flask_gravicors.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.graphviz",
    "myst_parser",
    "gravicors_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples"]
# Headings of the included Markdown files (SECURITY.md, the changelog...) get anchors.
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"flask-gravicors {release}"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# No "members" default: with it, Sphinx documents every member even where a directive lists the ones it wants.
autodoc_default_options = {"show-inheritance": True}

graphviz_output_format = "svg"
# Literal text stays literal: "--" in xn--bcher-kva is no dash, quotes stay straight.
smartquotes = False

# The example files (the tutorial's app, a plugin) are imported by the doctests, as a reader's would be.
doctest_path = [str(HERE / "examples"), str(HERE / "examples" / "tutorial")]
# Samples write Flask(__name__), as an app module does: give them a module name Flask
# can find a root path for (a doctest's namespace has none of its own). The
# warnings a sample's config logs (W002...) are not part of its output.
doctest_global_setup = """
__name__ = "__main__"
import logging
logging.getLogger("flask_gravicors").setLevel(logging.ERROR)
"""
