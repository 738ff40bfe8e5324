"""Checkers for the exercises: call them on your own implementation.

A checker prints one short line when your function is right and raises an
``AssertionError`` with a hint naming the likely mistake when it is not, for example::

    from course_lib.checks import check_kl_normal
    check_kl_normal(my_kl)   # CheckFailed: the KL is twice too large: did you drop the 1/2?

Stuck after the first hint? ``hint("kl_normal")`` names the concept again and
``hint("kl_normal", level=2)`` shows the shape of the formula or code.

One module per chapter, named after the chapter notebook without its number
(``getting_started``, ``autoencoder_embeddings``, ``vae_factors_vs_pca``,
``multvae_recommendation``, ``anomaly_detection_and_augmentation``, ...); every
public module of this package is found and its ``__all__`` exported from here, so a
new chapter's checker module needs no edit of this file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from ._common import HINTS, CheckFailed, hint  # noqa: F401  (public helpers, importable by name)
from ._common import hide_internals as _hide_internals

CHAPTER_MODULES: dict[str, ModuleType] = {
    _m.name: importlib.import_module(f"{__name__}.{_m.name}")
    for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if not _m.name.startswith("_")
}

# A failing check shows its hint, not the checker's source (which holds the reference answer);
# a passing one says so in one line.
_CHECKERS: list[str] = []
for _mod in CHAPTER_MODULES.values():
    for _name in _mod.__all__:
        globals()[_name] = _hide_internals(getattr(_mod, _name))
        _CHECKERS.append(_name)
del _mod, _name

# __all__ lists the checkers only (tests call every name in it with a learner's function); the helpers
# hint, HINTS, CheckFailed and CHAPTER_MODULES are importable by name.
__all__ = list(_CHECKERS)
