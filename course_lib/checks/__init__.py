"""Checkers for the exercises: call them on your own implementation.

A checker prints one short line when your function is right and raises an
``AssertionError`` with a hint naming the likely mistake when it is not, for example::

    from course_lib.checks import check_kl_normal
    check_kl_normal(my_kl)   # AssertionError: the KL is twice too large: ...

Stuck after the first hint? ``hint("check_kl_normal", level=2)`` shows the shape of
the formula or code (the first level names the concept only).

One module per chapter, named after the chapter notebook without its number
(``getting_started``, ``autoencoder_embeddings``, ``vae_factors_vs_pca``,
``multvae_recommendation``, ``anomaly_detection_and_augmentation``); every checker
is importable from here.
"""

from __future__ import annotations

from . import anomaly_detection_and_augmentation as _ch4
from . import autoencoder_embeddings as _ch1
from . import getting_started as _ch0
from . import multvae_recommendation as _ch3
from . import vae_factors_vs_pca as _ch2
from ._common import HINTS, CheckFailed, hint
from ._common import hide_internals as _hide_internals
from .anomaly_detection_and_augmentation import *  # noqa: F401,F403  (chapter 4)
from .autoencoder_embeddings import *  # noqa: F401,F403  (chapter 1)
from .getting_started import *  # noqa: F401,F403  (chapter 0)
from .multvae_recommendation import *  # noqa: F401,F403  (chapter 3)
from .vae_factors_vs_pca import *  # noqa: F401,F403  (chapter 2)

CHAPTER_MODULES = {
    "00_getting_started": _ch0,
    "01_autoencoder_embeddings": _ch1,
    "02_vae_factors_vs_pca": _ch2,
    "03_multvae_recommendation": _ch3,
    "04_anomaly_detection_and_augmentation": _ch4,
}

_CHECKERS = [*_ch0.__all__, *_ch1.__all__, *_ch2.__all__, *_ch3.__all__, *_ch4.__all__]
__all__ = [*_CHECKERS, "hint", "HINTS", "CheckFailed", "CHAPTER_MODULES"]

# A failing check shows its hint, not the checker's source (which holds the reference answer);
# a passing one says so in one line.
for _name in _CHECKERS:
    globals()[_name] = _hide_internals(globals()[_name])
del _name
