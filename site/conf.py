"""Sphinx configuration of the course website (``make site``).

The source directory is the repository root and this folder is only the configuration directory
(``sphinx-build -c site . site/_build/html``), so the README, the chapters in ``notebooks/`` and the
exercise notebooks in ``exercises/`` are read where they live and their relative links keep working.

- Notebooks are rendered from their stored outputs and never executed (``make test`` already runs them).
- The site works offline: MathJax is copied from the pinned ``django-static-mathjax`` wheel (a
  dependency-free package that ships MathJax 3's own release files) into ``_static``; the theme bundles
  its fonts and scripts; search is Sphinx's own (a local ``searchindex.js``).
- The landing page is the README (``build-finished`` copies it to ``index.html``); the toctrees that
  build the navigation are appended to it when it is read, so the README itself stays plain Markdown.
- The API reference is generated from ``course_lib``'s numpy-style docstrings (autodoc + napoleon),
  one section per public module found on disk, so a new or renamed module appears without editing here.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import inspect
import pkgutil
import re
import shutil
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT))

project = "Autoencoders in Finance"
author = "The course authors"
copyright = "the course authors; price data from skfolio (BSD-3-Clause)"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]

root_doc = "README"
# Only these files are pages; everything else in the repository (the venv, solutions/ with the
# answers, build folders) is neither read nor published.
include_patterns = ["README.md", "site/*.md", "notebooks/*.ipynb", "exercises/*.ipynb"]
exclude_patterns = [".venv", "**/.ipynb_checkpoints", "site/_build", "solutions", "benchmarks", "tests", "course_lib"]

# --- notebooks: show what was tested, never re-execute ----------------------------------------------
nb_execution_mode = "off"
nb_ipywidgets_js: dict = {}  # stored widget state would pull require.js and the widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# --- API reference ---------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --- offline math: MathJax 3 served from _static ------------------------------------------------------------
_MATHJAX_OUT = SITE / "_build" / "mathjax_static"


def _copy_mathjax() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is missing: install the docs extra (pip install -e '.[docs]').")
    src = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    dest = _MATHJAX_OUT / "mathjax" / "tex-svg-full.js"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.stat().st_size != src.stat().st_size:
        shutil.copyfile(src, dest)
    return _MATHJAX_OUT


html_static_path = [str(_copy_mathjax())]
mathjax_path = "mathjax/tex-svg-full.js"  # relative to _static: no CDN
mathjax3_config = {"options": {"enableMenu": False}}  # the menu lazily loads optional components

# --- theme ---------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Autoencoders in Finance"
html_copy_source = True
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
# Light by default (the figures have white backgrounds); without a default the theme logs a console error.
html_context = {"default_mode": "light"}

# --- the landing page is the README ---------------------------------------------------------------------
# README links that point at folders or files that are not pages, and the page that replaces each.
README_LINKS = {
    "exercises/": "site/exercises.md",
    "solutions/": "site/instructors.md",
    "CONTRIBUTING.md": "site/instructors.md",
}
NAVIGATION = """

```{toctree}
:hidden:
:caption: Chapters
:glob:

notebooks/*
```

```{toctree}
:hidden:
:caption: Exercises

site/exercises
```

```{toctree}
:hidden:
:caption: Reference

site/instructors
site/api
```
"""


def _is_page(target: str) -> bool:
    return any(fnmatch.fnmatch(target, pattern) for pattern in include_patterns) and (ROOT / target).is_file()


def _readme_for_the_site(text: str) -> str:
    """The README with the site's navigation appended and its links to repository files made to work.

    Links to pages and to the web are kept; folders and files that are not pages point at the page that
    replaces them (``README_LINKS``) or, failing that, become plain text (the file is in the repository).
    """

    def swap(m: re.Match) -> str:
        label, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+:", target) or _is_page(target.split("#")[0]):
            return m.group(0)
        if target in README_LINKS:
            return f"[{label}]({README_LINKS[target]})"
        return label

    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", swap, text) + NAVIGATION


def public_modules() -> list[str]:
    """Every importable public module of ``course_lib`` (no part of the name starts with ``_``)."""
    import course_lib

    names = ["course_lib"]
    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _api_reference() -> str:
    """MyST source of the API page: one ``automodule`` per public module, each object documented once.

    A package documents only what it defines itself or re-exports from a private module (``course_lib``'s
    ``set_seed`` lives in ``_runtime``); what it re-exports from a public submodule is documented there.
    """
    modules = public_modules()
    out = []
    for name in modules:
        mod = importlib.import_module(name)
        body = f".. automodule:: {name}\n"
        if hasattr(mod, "__path__"):
            # Packages: the docstring, then only what is theirs, each object named explicitly.
            body += "   :no-members:\n"
            for member in getattr(mod, "__all__", []):
                obj = getattr(mod, member, None)
                home = getattr(obj, "__module__", name) or name
                # Plain data (SECTORS, ...) is described in the package docstring; autodoc would show the
                # docstring of its type (dict) instead.
                if member.startswith("__") or (home != name and home in modules) or not callable(obj):
                    continue
                kind = "class" if inspect.isclass(obj) else "function"
                body += f"\n.. auto{kind}:: {name}.{member}\n"
        # Through eval-rst: autodoc writes reStructuredText, which MyST would otherwise read as Markdown.
        out.append(f"## `{name}`\n\n```{{eval-rst}}\n{body}```\n")
    return "\n".join(out)


def _skip_foreign(app, what, name, obj, skip, options):
    """Leave out what scikit-learn adds to the estimators (``set_fit_request`` and friends): it is not ours."""
    if getattr(obj, "__module__", None) and obj.__module__.split(".")[0] == "sklearn":
        return True
    return None


def _source_read(app, docname: str, source: list[str]) -> None:
    if docname == "README":
        source[0] = _readme_for_the_site(source[0])
    elif docname == "site/api":
        source[0] = source[0].replace("<!-- API -->", _api_reference())


def _landing_page(app, exception) -> None:
    out = Path(app.outdir)
    if exception is None and app.builder.format == "html" and (out / "README.html").exists():
        shutil.copyfile(out / "README.html", out / "index.html")


def setup(app):
    app.connect("source-read", _source_read)
    app.connect("autodoc-skip-member", _skip_foreign)
    app.connect("build-finished", _landing_page)
    return {"parallel_read_safe": True}
