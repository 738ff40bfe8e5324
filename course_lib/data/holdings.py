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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["FundHoldings", "make_fund_holdings", "ASSET_CLASSES", "THEMES"]

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
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}.")
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
    if n_investors < 2 or n_funds < 40:
        raise ValueError(f"need n_investors >= 2 and n_funds >= 40; got {n_investors} and {n_funds}.")
    if min_holdings < 1 or mean_holdings <= min_holdings:
        raise ValueError(f"need 1 <= min_holdings < mean_holdings; got {min_holdings} and {mean_holdings}.")
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
