"""Checkers for the exercises: call them on your own implementation.

A checker passes quietly when your function is right and raises an
``AssertionError`` with a specific hint when it is not, for example::

    from course_lib.checks import check_kl_normal
    check_kl_normal(my_kl)   # AssertionError: the KL is twice too large: did you drop the 1/2?

One module per chapter; all checkers are importable from here.
"""

from __future__ import annotations

from . import anomaly as _a
from . import conditional_autoencoder as _c
from . import embeddings as _e
from . import factors as _f
from . import recommendation as _r
from ._common import hide_internals as _hide_internals
from .anomaly import *  # noqa: F401,F403  (chapter 4)
from .conditional_autoencoder import *  # noqa: F401,F403  (chapter 2b)
from .embeddings import *  # noqa: F401,F403  (chapter 1)
from .factors import *  # noqa: F401,F403  (chapter 2)
from .foundations import check_kl_normal, check_ndcg_at_k, check_reparameterize
from .getting_started import check_log_returns, check_rolling_volatility, check_train_only_scaler
from .recommendation import *  # noqa: F401,F403  (chapter 3)

__all__ = [
    "check_reparameterize",
    "check_kl_normal",
    "check_ndcg_at_k",
    "check_log_returns",
    "check_rolling_volatility",
    "check_train_only_scaler",
    *_e.__all__,
    *_f.__all__,
    *_r.__all__,
    *_a.__all__,
    *_c.__all__,
]

# A failing check shows its hint, not the checker's source (which holds the reference answer).
for _name in __all__:
    globals()[_name] = _hide_internals(globals()[_name])
del _name
