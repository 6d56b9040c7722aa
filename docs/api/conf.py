"""Sphinx configuration of gosym's API reference (built from the docstrings).

Build:  python -m sphinx -W --keep-going -b html docs/api docs/_build/api
(with the extension built in place and the checkout on PYTHONPATH, or gosym installed).
tests/unit/test_docs.py runs the same build and fails on any warning. No extension here
fetches anything: the build needs no network.
"""
project = "gosym"
author = "gosym developers"
copyright = "gosym developers"
extensions = ["sphinx.ext.autodoc"]
# Docstrings are prose in the project's style ("name does X", `code` in single
# backticks); render single backticks as code, as on the Markdown pages in docs/.
default_role = "code"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
html_theme = "alabaster"
html_static_path: list = []
templates_path: list = []
exclude_patterns = ["_build"]

# `gosym` imports its DWARF reader on first use (module __getattr__); autodoc
# lists a module's members from its namespace, so resolve every public name first.
import gosym  # noqa: E402

for _name in gosym.__all__:
    getattr(gosym, _name)
