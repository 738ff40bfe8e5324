r"""Generated investor-fund holdings with a known truth.

Each investor :math:`i` has a risk appetite :math:`a_i \in [1, 7]`, theme
weights :math:`w_i` (a sparse Dirichlet draw) and a fee sensitivity
:math:`c_i`. Each fund :math:`j` has an asset class, a theme, a risk level
:math:`r_j \in \{1..7\}` (set by its asset class), a fee :math:`f_j` and a
long-tailed popularity :math:`p_j`. The true preference logit is

.. math:: u_{ij} = p_j + \gamma \, K w_{i,\theta(j)} - \rho\,(r_j - a_i)^2 - c_i f_j + \varepsilon_{ij},

and an investor with :math:`n_i` holdings buys funds one after another
without replacement, each time with probability :math:`\propto e^{u_{ij}}`
among the funds not yet held (a Plackett-Luce draw, done with the Gumbel
trick). The order of purchase is kept, so "first holdings" exist for
cold-start questions, and the logits give an oracle ranking: an upper bound
for every ranking metric.

:func:`make_mismatch_profiles` builds labelled unsuitable profiles (a
conservative investor holding the riskiest funds) for testing detectors, and
:func:`risk_mismatch_score` is the simple suitability rule they are judged against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import InputTypeError, as_2d_float, check_positive_int, check_probability, check_real, check_seed, check_sparse

__all__ = ["FundHoldings", "make_fund_holdings", "make_mismatch_profiles", "risk_mismatch_score", "ASSET_CLASSES", "THEMES"]

#: Asset classes and the range of risk levels (1 = lowest, 7 = highest, as in the EU's SRI scale).
ASSET_CLASSES: dict[str, tuple[int, int]] = {
    "Money market": (1, 1),
    "Bond": (2, 3),
    "Multi-asset": (3, 5),
    "Alternatives": (4, 6),
    "Equity": (5, 7),
}
THEMES: tuple[str, ...] = (
    "Broad market",
    "Technology",
    "Healthcare",
    "Energy",
    "Sustainable (ESG)",
    "Emerging markets",
    "Dividend income",
    "Real estate",
)
_PROVIDERS = ("Alder", "Birchwood", "Cobalt", "Dunmore", "Elmstead", "Fairhaven", "Granite", "Harbour", "Ivyline", "Juniper")


@dataclass
class FundHoldings:
    """Holdings of investors in funds, with the truth that generated them.

    Attributes
    ----------
    holdings : scipy.sparse.csr_matrix, shape (n_investors, n_funds)
        1 where an investor holds a fund.
    purchase_order : scipy.sparse.csr_matrix, shape (n_investors, n_funds)
        Same pattern as ``holdings``; the value is the purchase rank (1 = first fund bought).
    logits : numpy.ndarray, shape (n_investors, n_funds)
        True preference logits :math:`u_{ij}`; ranking by them is the oracle.
    funds : pandas.DataFrame, shape (n_funds, 6)
        ``name``, ``asset_class``, ``theme``, ``risk``, ``fee`` (annual, %), ``popularity``.
    investors : pandas.DataFrame, shape (n_investors, 4)
        ``risk_appetite``, ``favourite_theme``, ``fee_sensitivity``, ``n_holdings``.
    """

    holdings: sp.csr_matrix
    purchase_order: sp.csr_matrix
    logits: np.ndarray
    funds: pd.DataFrame
    investors: pd.DataFrame

    def first_purchases(self, k: int) -> sp.csr_matrix:
        """Binary matrix, shape (n_investors, n_funds), of each investor's first ``k`` purchases."""
        k = check_positive_int(k, "k")
        P = self.purchase_order.tocoo()
        keep = P.data <= k
        return sp.csr_matrix((np.ones(keep.sum(), np.float32), (P.row[keep], P.col[keep])), shape=P.shape)


def make_fund_holdings(
    n_investors: int = 2000,
    n_funds: int = 500,
    *,
    mean_holdings: float = 14.0,
    min_holdings: int = 5,
    theme_strength: float = 0.6,
    risk_strength: float = 0.35,
    noise: float = 0.5,
    seed: int = 0,
) -> FundHoldings:
    """Generate investor-fund holdings from known preferences.

    Parameters
    ----------
    n_investors, n_funds : int
        Matrix size; ``n_funds`` must be at least 40 and exceed the largest number of holdings.
    mean_holdings : float
        Average number of funds an investor holds (long-tailed: a lognormal, at least ``min_holdings``).
    min_holdings : int
        Every investor holds at least this many funds.
    theme_strength, risk_strength : float
        Weight of theme affinity and of the risk mismatch penalty in the logits.
    noise : float
        Standard deviation of the idiosyncratic term :math:`\\varepsilon_{ij}` (taste no attribute explains).
    seed : int

    Returns
    -------
    FundHoldings
    """
    n_investors = check_positive_int(n_investors, "n_investors", minimum=2)
    n_funds = check_positive_int(n_funds, "n_funds", minimum=40)
    min_holdings = check_positive_int(min_holdings, "min_holdings")
    seed = check_seed(seed)
    mean_holdings = check_real(mean_holdings, "mean_holdings", low=0.0, low_open=True)
    theme_strength = check_real(theme_strength, "theme_strength", low=0.0)
    risk_strength = check_real(risk_strength, "risk_strength", low=0.0)
    noise = check_real(noise, "noise", low=0.0)
    if n_investors < 2 or n_funds < 40:
        raise ValueError(f"need n_investors >= 2 and n_funds >= 40; got {n_investors} and {n_funds}.")
    if min_holdings < 1 or mean_holdings <= min_holdings:
        raise ValueError(
            f"mean_holdings and min_holdings: need 1 <= min_holdings < mean_holdings; got {min_holdings} and {mean_holdings}."
        )
    if min(theme_strength, risk_strength, noise) < 0:
        raise ValueError("theme_strength, risk_strength and noise must be >= 0.")
    rng = np.random.default_rng(seed)
    classes = list(ASSET_CLASSES)
    class_p = np.array([0.06, 0.24, 0.16, 0.08, 0.46])
    fund_class = rng.choice(len(classes), size=n_funds, p=class_p)
    fund_theme = rng.integers(len(THEMES), size=n_funds)
    fund_theme[np.isin(fund_class, [0, 1])] = 0  # money market and bond funds are "broad market"
    lo = np.array([ASSET_CLASSES[c][0] for c in classes])[fund_class]
    hi = np.array([ASSET_CLASSES[c][1] for c in classes])[fund_class]
    risk = rng.integers(lo, hi + 1)
    fee = np.round(np.clip(0.1 + 0.22 * risk + rng.gamma(2.0, 0.15, n_funds), 0.05, 3.0), 2)
    popularity = rng.normal(0.0, 1.0, n_funds) * 1.1 - 0.5 * (fee - fee.mean())
    names = [
        f"{_PROVIDERS[rng.integers(len(_PROVIDERS))]} {THEMES[t] + ' ' if t else ''}{classes[c]} {j:03d}"
        for j, (c, t) in enumerate(zip(fund_class, fund_theme))
    ]
    funds = pd.DataFrame(
        {
            "name": names,
            "asset_class": [classes[c] for c in fund_class],
            "theme": [THEMES[t] for t in fund_theme],
            "risk": risk,
            "fee": fee,
            "popularity": popularity.round(3),
        }
    ).rename_axis("fund_id")

    appetite = np.clip(rng.normal(4.5, 1.5, n_investors), 1.0, 7.0)
    theme_w = rng.dirichlet(np.full(len(THEMES), 0.3), size=n_investors)
    fee_sens = rng.gamma(2.0, 0.5, n_investors)
    n_hold = np.minimum(
        min_holdings + np.floor(rng.lognormal(np.log(mean_holdings - min_holdings) - 0.32, 0.8, n_investors)).astype(int),
        n_funds // 4,
    )
    logits = (
        popularity[None, :]
        + theme_strength * len(THEMES) * theme_w[:, fund_theme]
        - risk_strength * (risk[None, :] - appetite[:, None]) ** 2
        - fee_sens[:, None] * fee[None, :]
        + noise * rng.normal(size=(n_investors, n_funds))
    )
    gumbel = logits + rng.gumbel(size=logits.shape)
    order = np.argsort(-gumbel, axis=1)
    rows, cols, ranks = [], [], []
    for i in range(n_investors):
        k = n_hold[i]
        rows.append(np.full(k, i))
        cols.append(order[i, :k])
        ranks.append(np.arange(1, k + 1))
    r, c, k = np.concatenate(rows), np.concatenate(cols), np.concatenate(ranks)
    shape = (n_investors, n_funds)
    holdings = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=shape)
    purchase = sp.csr_matrix((k.astype(np.float32), (r, c)), shape=shape)
    investors = pd.DataFrame(
        {
            "risk_appetite": appetite.round(2),
            "favourite_theme": [THEMES[t] for t in theme_w.argmax(1)],
            "fee_sensitivity": fee_sens.round(3),
            "n_holdings": n_hold,
        }
    ).rename_axis("investor_id")
    return FundHoldings(holdings, purchase, logits.astype(np.float32), funds, investors)


def make_mismatch_profiles(
    fh: FundHoldings,
    candidates: Any,
    *,
    max_appetite: float = 3.0,
    min_fund_risk: int = 6,
    share: float = 0.5,
    seed: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unsuitable profiles with a known label: conservative investors whose holdings are partly the riskiest funds.

    For every candidate investor with risk appetite <= ``max_appetite``, a copy of their holdings has
    ``round(share * n)`` of its funds (at least one) swapped for funds of risk level >= ``min_fund_risk``
    not already held, drawn in proportion to ``exp(popularity)`` (popular risky funds, as a mis-sold or
    execution-only account would show). The investor's own risk appetite stays attached to the profile,
    which is what a suitability officer compares the holdings with.

    Parameters
    ----------
    fh : FundHoldings
        From :func:`make_fund_holdings`.
    candidates : array-like of int, shape (n_candidates,)
        Investor rows to draw from (e.g. the test investors of a split); those above ``max_appetite`` are skipped.
    max_appetite : float
        Who counts as conservative (risk appetite on the 1-7 scale).
    min_fund_risk : int
        Risk level (1-7) of the funds swapped in.
    share : float
        Share of the holdings swapped, in (0, 1].
    seed : int

    Returns
    -------
    profiles : scipy.sparse.csr_matrix, shape (n_profiles, n_funds)
        Binary holdings of the mismatch profiles (each has as many funds as its source investor).
    source : numpy.ndarray of int, shape (n_profiles,)
        The investor row each profile was built from (for its risk appetite).
    """
    if not isinstance(fh, FundHoldings):
        raise InputTypeError(f"fh must be a FundHoldings (from make_fund_holdings), got {type(fh).__name__}.")
    share = check_probability(share, "share", open_high=False)
    check_real(max_appetite, "max_appetite")
    min_fund_risk = check_positive_int(min_fund_risk, "min_fund_risk")
    seed = check_seed(seed)
    cand = np.asarray(candidates)
    if cand.ndim != 1 or len(cand) == 0 or not np.issubdtype(cand.dtype, np.integer):
        raise ValueError("candidates must be a non-empty 1-D array of investor row indices (integers).")
    n_inv, n_funds = fh.holdings.shape
    if cand.min() < 0 or cand.max() >= n_inv:
        raise ValueError(f"candidates must be investor rows in [0, {n_inv}).")
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}.")
    risk = fh.funds["risk"].to_numpy()
    risky = np.flatnonzero(risk >= min_fund_risk)
    if len(risky) == 0:
        raise ValueError(f"no fund has risk level >= {min_fund_risk}; lower min_fund_risk (levels run 1-7).")
    appetite = fh.investors["risk_appetite"].to_numpy()
    source = cand[appetite[cand] <= max_appetite]
    if len(source) == 0:
        raise ValueError(f"no candidate has risk appetite <= {max_appetite}; raise max_appetite or pass more candidates.")
    rng = np.random.default_rng(seed)
    weight = np.exp(fh.funds["popularity"].to_numpy()[risky])
    H = fh.holdings.tocsr()
    rows, cols = [], []
    for r, i in enumerate(source):
        held = H.indices[H.indptr[i] : H.indptr[i + 1]]
        n_swap = max(1, int(round(share * len(held))))
        free = ~np.isin(risky, held)
        if free.sum() < n_swap:
            raise ValueError(
                f"only {int(free.sum())} risky funds are free to swap in for investor {i}; lower share or min_fund_risk."
            )
        new = rng.choice(risky[free], size=n_swap, replace=False, p=weight[free] / weight[free].sum())
        keep = rng.choice(held, size=len(held) - n_swap, replace=False)
        cols.append(np.concatenate([keep, new]))
        rows.append(np.full(len(held), r))
    r, c = np.concatenate(rows), np.concatenate(cols)
    profiles = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(source), n_funds))
    return profiles, source


def risk_mismatch_score(profiles: Any, fund_risk: Any, appetite: Any) -> np.ndarray:
    """The suitability rule: mean excess of the held funds' risk level over the investor's risk appetite.

    Parameters
    ----------
    profiles : scipy.sparse matrix or array, shape (n_profiles, n_funds)
        Holdings (nonzero = held); every profile must hold at least one fund.
    fund_risk : array-like, shape (n_funds,)
        Risk level of each fund (1-7).
    appetite : array-like, shape (n_profiles,)
        Each profile's stated risk appetite (1-7), e.g. from a suitability questionnaire.

    Returns
    -------
    numpy.ndarray, shape (n_profiles,)
        ``mean_j max(0, risk_j - appetite)`` over the held funds: 0 when nothing is riskier than the appetite.
    """
    H = (
        sp.csr_matrix(as_2d_float(profiles, "profiles"))
        if not sp.issparse(profiles)
        else check_sparse(profiles, "profiles").tocsr()
    )
    risk = np.asarray(fund_risk, dtype=float)
    app = np.asarray(appetite, dtype=float)
    if risk.shape != (H.shape[1],) or app.shape != (H.shape[0],):
        raise ValueError(
            f"fund_risk {risk.shape} must be ({H.shape[1]},) and appetite {app.shape} must be ({H.shape[0]},): "
            "one value per fund, one per profile."
        )
    if not (np.isfinite(risk).all() and np.isfinite(app).all()):
        raise ValueError("fund_risk and appetite must be finite (no NaN).")
    n = np.asarray((H != 0).sum(axis=1)).ravel()
    if (n == 0).any():
        raise ValueError(f"profiles: {int((n == 0).sum())} profile(s) hold no fund; drop them first.")
    C = (H != 0).tocoo()
    excess = np.maximum(0.0, risk[C.col] - app[C.row])
    return np.bincount(C.row, weights=excess, minlength=H.shape[0]) / n
