"""course_lib.data.holdings: generated investor-fund holdings with a known truth."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import spearmanr

from course_lib.data import ASSET_CLASSES, THEMES, make_fund_holdings  # noqa: F401


def test_shapes_and_consistency():
    fh = make_fund_holdings(300, 120, seed=0)
    assert fh.holdings.shape == fh.purchase_order.shape == fh.logits.shape == (300, 120)
    assert len(fh.funds) == 120 and len(fh.investors) == 300
    n = np.asarray(fh.holdings.sum(1)).ravel()
    assert (n == fh.investors["n_holdings"].to_numpy()).all() and n.min() >= 5
    assert set(np.unique(fh.holdings.data)) == {1.0}
    # purchase ranks are 1..n for each investor, on the same pattern
    P = fh.purchase_order
    assert (P != 0).astype(int).nnz == fh.holdings.nnz
    for i in range(5):
        assert sorted(P[i].data.tolist()) == list(range(1, int(n[i]) + 1))
    first = fh.first_purchases(3)
    assert (np.asarray(first.sum(1)).ravel() == 3).all() and first.multiply(fh.holdings).nnz == first.nnz
    with pytest.raises(ValueError, match="k must"):
        fh.first_purchases(0)


def test_fund_attributes_make_sense():
    fh = make_fund_holdings(200, 200, seed=1)
    f = fh.funds
    assert set(f["asset_class"]) <= set(ASSET_CLASSES) and set(f["theme"]) <= set(THEMES)
    for c, (lo, hi) in ASSET_CLASSES.items():
        r = f.loc[f["asset_class"] == c, "risk"]
        assert r.between(lo, hi).all()
    assert (f["fee"] > 0).all() and f["name"].is_unique


def test_holdings_follow_the_truth():
    fh = make_fund_holdings(800, 150, seed=2)
    L = fh.logits
    held = fh.holdings.toarray() > 0
    # held funds have higher true logits than unheld ones, for almost every investor
    gap = np.array([L[i, held[i]].mean() - L[i, ~held[i]].mean() for i in range(len(L))])
    assert (gap > 0).mean() > 0.95
    # popularity shows up in the counts; and investors with high risk appetite hold riskier funds
    counts = np.asarray(fh.holdings.sum(0)).ravel()
    assert spearmanr(fh.funds["popularity"], counts)[0] > 0.3
    mean_risk = (held * fh.funds["risk"].to_numpy()).sum(1) / held.sum(1)
    assert spearmanr(fh.investors["risk_appetite"], mean_risk)[0] > 0.5
    # long tail: the top 10 % of funds hold a large share of all holdings
    assert np.sort(counts)[::-1][:15].sum() / counts.sum() > 0.25


def test_reproducible_and_validated():
    a, b = make_fund_holdings(50, 60, seed=3), make_fund_holdings(50, 60, seed=3)
    assert (a.holdings != b.holdings).nnz == 0 and np.array_equal(a.logits, b.logits)
    with pytest.raises(ValueError, match="n_funds"):
        make_fund_holdings(50, 10)
    with pytest.raises(ValueError, match="min_holdings"):
        make_fund_holdings(50, 60, mean_holdings=3)
    with pytest.raises(ValueError, match=">= 0"):
        make_fund_holdings(50, 60, noise=-1)


def test_mismatch_profiles_are_conservative_investors_holding_risky_funds():
    from course_lib.data.holdings import make_mismatch_profiles, risk_mismatch_score

    fh = make_fund_holdings(600, 200, seed=2)
    cand = np.arange(300)
    prof, src = make_mismatch_profiles(fh, cand, max_appetite=3.0, min_fund_risk=6, share=0.5, seed=0)
    app = fh.investors["risk_appetite"].to_numpy()
    risk = fh.funds["risk"].to_numpy()
    assert len(src) > 0 and (app[src] <= 3.0).all() and np.isin(src, cand).all()
    assert set(src) == set(cand[app[cand] <= 3.0]), "every conservative candidate gives one profile"
    n_src = np.asarray(fh.holdings[src].sum(1)).ravel()
    assert (np.asarray(prof.sum(1)).ravel() == n_src).all(), "same number of funds as the source investor"
    assert set(np.unique(prof.data)) == {1.0}
    risky_held = np.asarray(prof[:, risk >= 6].sum(1)).ravel()
    assert (risky_held >= np.maximum(1, np.round(0.5 * n_src))).all()
    # the rule separates them from their sources
    rule_fake = risk_mismatch_score(prof, risk, app[src])
    rule_real = risk_mismatch_score(fh.holdings[src], risk, app[src])
    assert (rule_fake > rule_real).mean() > 0.9
    again, _ = make_mismatch_profiles(fh, cand, seed=0)
    assert (again != prof).nnz == 0


def test_mismatch_profiles_and_rule_reject_bad_input():
    from course_lib.data.holdings import make_mismatch_profiles, risk_mismatch_score

    fh = make_fund_holdings(200, 100, seed=0)
    with pytest.raises(ValueError, match="candidates"):
        make_mismatch_profiles(fh, np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="candidates"):
        make_mismatch_profiles(fh, np.array([10_000]))
    with pytest.raises(ValueError, match="share"):
        make_mismatch_profiles(fh, np.arange(100), share=0)
    with pytest.raises(ValueError, match="min_fund_risk"):
        make_mismatch_profiles(fh, np.arange(100), min_fund_risk=9)
    with pytest.raises(ValueError, match="max_appetite"):
        make_mismatch_profiles(fh, np.arange(100), max_appetite=0.5)
    H = fh.holdings[:3]
    risk = fh.funds["risk"].to_numpy()
    assert risk_mismatch_score(H, risk, np.full(3, 7.0)).tolist() == [0.0, 0.0, 0.0]
    hand = np.maximum(0, risk[H[0].indices] - 2.0).mean()
    assert risk_mismatch_score(H, risk, np.full(3, 2.0))[0] == pytest.approx(hand)
    with pytest.raises(ValueError, match="one value per fund"):
        risk_mismatch_score(H, risk[:-1], np.full(3, 2.0))
    with pytest.raises(ValueError, match="finite"):
        risk_mismatch_score(H, risk, np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="hold no fund"):
        risk_mismatch_score(sp.csr_matrix((2, 100)), risk, np.ones(2))
