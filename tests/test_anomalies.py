"""Tests of course_lib.anomalies and of the VAEAnomalyDetector it is used with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import course_lib.anomalies as anomalies
import course_lib.latent as latent
from course_lib.anomalies import (
    ANOMALY_KINDS,
    MahalanobisDetector,
    PCAReconstructionDetector,
    binomial_interval,
    bootstrap_detection_table,
    choose_n_components,
    conformal_threshold,
    detection_table,
    ewma_scale,
    inject_anomalies,
    precision_at_k,
    precision_recall_at_rate,
)
from course_lib.estimators import VAEAnomalyDetector


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(12, 2))
    X = rng.normal(size=(600, 2)) @ B.T + 0.3 * rng.normal(size=(600, 12))
    groups = np.repeat(["a", "b", "c", "d"], 3)
    return X, groups


@pytest.fixture(scope="module")
def small_vae(data):
    X, _ = data
    return VAEAnomalyDetector(
        latent_dim=2, hidden_dims=(16,), epochs=15, warmup_epochs=3, batch_size=64, lr=3e-3, random_state=0
    ).fit(X)


# inject_anomalies ---------------------------------------------------------------
def test_inject_labels_and_changes_only_anomalous_rows(data):
    X, g = data
    inj = inject_anomalies(X, g, n_per_kind=10, seed=1)
    assert inj.X.shape == X.shape and inj.kind.shape == (len(X),)
    counts = pd.Series(inj.kind).value_counts()
    assert all(counts[k] == 10 for k in ANOMALY_KINDS) and counts["normal"] == len(X) - 40
    changed = ~np.isclose(inj.X, X).all(axis=1)
    assert np.array_equal(changed, inj.is_anomaly)
    assert len(inj.detail) == 40
    assert np.array_equal(inject_anomalies(X, g, n_per_kind=10, seed=1).X, inj.X)  # same seed, same result
    assert not np.array_equal(inject_anomalies(X, g, n_per_kind=10, seed=2).kind, inj.kind)


def test_inject_each_kind_does_what_it_says(data):
    X, g = data
    inj = inject_anomalies(X, g, n_per_kind=5, jump_size=7.0, sector_size=2.0, break_size=1.5, vol_multiplier=3.0, seed=0)
    diff = inj.X - X
    for r in np.flatnonzero(inj.kind == "jump"):
        nz = np.flatnonzero(~np.isclose(diff[r], 0))
        assert len(nz) == 1 and np.isclose(abs(diff[r, nz[0]]), 7.0)
    for r in np.flatnonzero(inj.kind == "sector"):
        nz = ~np.isclose(diff[r], 0)
        assert len(set(g[nz])) == 1 and nz.sum() == 3 and np.allclose(np.abs(diff[r, nz]), 2.0)
        assert len(set(np.sign(diff[r, nz]))) == 1
    for r in np.flatnonzero(inj.kind == "correlation_break"):
        assert np.allclose(np.abs(diff[r]), 1.5) and (diff[r] > 0).sum() == 6  # half of 4 sectors x 3 stocks up
        for s in set(g):
            assert len(set(np.sign(diff[r, g == s]))) == 1  # whole sectors move together
    for r in np.flatnonzero(inj.kind == "vol_burst"):
        assert np.allclose(inj.X[r], 3.0 * X[r])


def test_inject_subset_of_kinds(data):
    X, g = data
    inj = inject_anomalies(X, g, kinds=["jump"], n_per_kind=3)
    assert set(inj.kind) == {"normal", "jump"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kinds=["spike"]), "subset"),
        (dict(kinds=[]), "subset"),
        (dict(kinds=["jump", "jump"]), "twice"),
        (dict(n_per_kind=0), "n_per_kind"),
        (dict(n_per_kind=200), "lower n_per_kind"),
        (dict(jump_size=-1.0), "jump_size"),
        (dict(vol_multiplier=0.5), "exceed 1"),
    ],
)
def test_inject_bad_settings(data, kwargs, match):
    X, g = data
    with pytest.raises(ValueError, match=match):
        inject_anomalies(X, g, **kwargs)


def test_inject_bad_inputs(data):
    X, g = data
    with pytest.raises(ValueError, match="one sector label per column"):
        inject_anomalies(X, g[:-1])
    with pytest.raises(ValueError, match="2 distinct sectors"):
        inject_anomalies(X, np.zeros(X.shape[1]))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        inject_anomalies(bad, g)
    with pytest.raises(ValueError, match="2-D"):
        inject_anomalies(X[0], g)


# precision_at_k and detection_table ----------------------------------------------
def test_precision_at_k_values():
    s = np.array([0.9, 0.1, 0.8, 0.3, 0.7])
    y = np.array([1, 1, 0, 0, 1])
    assert precision_at_k(s, y, 1) == 1.0
    assert precision_at_k(s, y, 2) == 0.5
    assert precision_at_k(s, y, 3) == pytest.approx(2 / 3)
    assert precision_at_k(s, y, 5) == pytest.approx(0.6)
    assert precision_at_k(s, y.astype(bool), 3) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "scores, labels, k, match",
    [
        ([0.1, 0.2], [1, 0], 0, "between 1 and n"),
        ([0.1, 0.2], [1, 0], 3, "between 1 and n"),
        ([0.1, np.nan], [1, 0], 1, "NaN"),
        ([0.1, 0.2], [1, 0, 1], 1, "same length"),
        ([0.1, 0.2], [1, 2], 1, "binary"),
        ([], [], 1, "empty"),
    ],
)
def test_precision_at_k_bad_input(scores, labels, k, match):
    with pytest.raises(ValueError, match=match):
        precision_at_k(scores, labels, k)


def test_detection_table_perfect_random_and_inverted():
    rng = np.random.default_rng(0)
    kind = np.array(["normal"] * 80 + ["jump"] * 10 + ["vol_burst"] * 10, dtype=object)
    is_anom = kind != "normal"
    perfect = is_anom + 0.01 * rng.random(100)
    tab = detection_table({"perfect": perfect, "inverted": -perfect, "noise": rng.random(100)}, kind)
    assert list(tab.index.get_level_values("kind").unique()) == ["jump", "vol_burst", "all"]
    assert tab.loc[("all", "perfect"), "roc_auc"] == 1.0 and tab.loc[("jump", "perfect"), "precision_at_k"] == 1.0
    assert tab.loc[("all", "perfect"), "pr_auc"] == pytest.approx(1.0)
    assert tab.loc[("all", "inverted"), "roc_auc"] == 0.0 and tab.loc[("all", "inverted"), "precision_at_k"] == 0.0
    assert tab.loc[("jump", "noise"), "n_anomalies"] == 10 and tab.loc[("jump", "noise"), "base_rate"] == pytest.approx(10 / 90)
    assert tab.loc[("all", "noise"), "n_anomalies"] == 20


def test_detection_table_per_kind_uses_only_that_kind():
    kind = np.array(["normal"] * 6 + ["jump"] * 2 + ["sector"] * 2, dtype=object)
    s = np.array([0, 0, 0, 0, 0, 0, 5, 5, -1, -1], dtype=float)  # finds jumps, misses sector shocks
    tab = detection_table({"m": s}, kind)
    assert tab.loc[("jump", "m"), "roc_auc"] == 1.0
    assert tab.loc[("sector", "m"), "roc_auc"] == 0.0
    assert "all" in tab.index.get_level_values("kind")
    assert "all" not in detection_table({"m": s}, kind, include_all=False).index.get_level_values("kind")


def test_detection_table_bad_input():
    kind = np.array(["normal", "jump", "normal"], dtype=object)
    with pytest.raises(ValueError, match="empty"):
        detection_table({}, kind)
    with pytest.raises(ValueError, match="both normal rows and anomalies"):
        detection_table({"m": [1, 2, 3]}, np.array(["normal"] * 3, dtype=object))
    with pytest.raises(ValueError, match="same length"):
        detection_table({"m": [1, 2]}, kind)
    with pytest.raises(ValueError, match="NaN"):
        detection_table({"m": [1, np.nan, 2]}, kind)


# baseline detectors -------------------------------------------------------------
@pytest.mark.parametrize("Det", [MahalanobisDetector, PCAReconstructionDetector])
def test_baselines_sklearn_contract(data, Det):
    X, g = data
    kw = {"n_components": 2} if Det is PCAReconstructionDetector else {}
    det = Det(contamination=0.1, **kw).fit(X)
    clone(det)
    s = det.score_samples(X)
    assert s.shape == (len(X),)
    pred = det.predict(X)
    assert set(np.unique(pred)) <= {-1, 1}
    assert abs((pred == -1).mean() - 0.1) < 0.02  # the threshold is the training quantile
    assert np.allclose(det.decision_function(X), s - det.offset_)
    inj = inject_anomalies(X[:200], g, kinds=["jump"], jump_size=8.0, n_per_kind=10, seed=0)
    auc = detection_table({"d": det.anomaly_score(inj.X)}, inj.kind).loc[("jump", "d"), "roc_auc"]
    assert auc > 0.95  # an 8-sd jump off the factor structure is easy for both
    with pytest.raises(ValueError, match="features"):
        det.score_samples(X[:, :5])
    with pytest.raises(ValueError, match="contamination"):
        Det(contamination=0.7, **kw).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        det.score_samples(np.full((2, X.shape[1]), np.nan))


def test_mahalanobis_matches_formula(data):
    X, _ = data
    det = MahalanobisDetector().fit(X)
    D = X[:5] - det.location_
    assert np.allclose(det.anomaly_score(X[:5]), np.diag(D @ det.precision_ @ D.T))
    assert 0 <= det.shrinkage_ <= 1


def test_pca_detector_zero_error_in_subspace_and_bad_components(data):
    X, _ = data
    det = PCAReconstructionDetector(n_components=2).fit(X)
    inside = det.pca_.inverse_transform(np.array([[1.0, -2.0]]))
    assert det.anomaly_score(inside)[0] == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="n_components"):
        PCAReconstructionDetector(n_components=12).fit(X)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MahalanobisDetector().score_samples(np.zeros((2, 3)))


# VAEAnomalyDetector -------------------------------------------------------------
def test_vae_detector_parts_threshold_and_jumps(data, small_vae):
    X, g = data
    vae = small_vae
    p = vae.score_parts(X[:50])
    assert set(p) == {"recon", "kl"} and p["recon"].shape == (50,)
    assert (p["recon"] >= 0).all() and (p["kl"] >= 0).all()
    assert np.allclose(vae.anomaly_score(X[:50]), p["recon"] + 0.1 * p["kl"], rtol=1e-5)
    assert abs((vae.predict(X) == -1).mean() - 0.05) < 0.02
    inj = inject_anomalies(X[:200], g, kinds=["jump"], jump_size=8.0, n_per_kind=10, seed=0)
    assert detection_table({"v": vae.anomaly_score(inj.X)}, inj.kind).loc[("jump", "v"), "roc_auc"] > 0.9


def test_vae_detector_bad_contamination(data):
    X, _ = data
    with pytest.raises(ValueError, match="contamination"):
        VAEAnomalyDetector(contamination=0.0, epochs=1).fit(X)


def test_calibrated_threshold_holds_the_nominal_false_positive_rate():
    """Split-conformal threshold (val_fraction > 0): FPR on fresh normal rows within a binomial interval of nominal.

    The threshold's own noise (n_cal calibration rows) and the test noise (n_test rows) add up, so the interval
    is the nominal rate +- 4 standard deviations of c(1 - c)(1/n_cal + 1/n_test). The in-sample rule (quantile of
    the rows the network was trained on, val_fraction = 0) is optimistic and lies outside it on this small,
    easily memorised training set: the test can fail.
    """
    rng = np.random.default_rng(1)
    B = rng.normal(size=(30, 3))

    def draw(n):
        return rng.normal(size=(n, 3)) @ B.T + rng.standard_t(5, size=(n, 30)) * 0.5

    c, n_train, n_cal, n_test = 0.1, 150, 1500, 6000
    X_fit, X_new = draw(n_train + n_cal), draw(n_test)
    kw = dict(latent_dim=3, hidden_dims=(128,), epochs=200, warmup_epochs=5, batch_size=32, lr=3e-3, contamination=c)
    det = VAEAnomalyDetector(val_fraction=n_cal / (n_train + n_cal), random_state=0, **kw).fit(X_fit)
    assert det.threshold_rows_ == "validation"
    fpr = (det.predict(X_new) == -1).mean()
    tol = 4 * np.sqrt(c * (1 - c) * (1 / n_cal + 1 / n_test))
    assert abs(fpr - c) < tol, (fpr, tol)
    lo, hi = binomial_interval(int((det.predict(X_new) == -1).sum()), n_test, 0.9999)
    assert lo - tol < c < hi + tol
    in_sample = VAEAnomalyDetector(val_fraction=0.0, random_state=0, **kw).fit(X_fit[:n_train])
    assert in_sample.threshold_rows_ == "training"
    assert (in_sample.predict(X_new) == -1).mean() > c + tol  # optimistic training scores: too many alarms


def test_conformal_threshold_quantile_and_small_n():
    s = np.arange(1, 100, dtype=float)  # n = 99: (n + 1)(1 - 0.1) = 90 -> the 90th smallest
    assert conformal_threshold(s, 0.1) == 90.0
    assert conformal_threshold(np.arange(5.0), 0.1) == np.inf  # too few rows for a 10 % rate
    rng = np.random.default_rng(0)  # the guarantee: P(new > threshold) in [c - 1/(n+1), c]
    exceed = [(rng.normal() > conformal_threshold(rng.normal(size=49), 0.2)) for _ in range(4000)]
    assert 0.2 - 1 / 50 - 0.03 < np.mean(exceed) < 0.2 + 0.03
    with pytest.raises(ValueError, match="contamination"):
        conformal_threshold(s, 0.6)
    with pytest.raises(ValueError, match="finite"):
        conformal_threshold([1.0, np.nan], 0.1)


def test_binomial_interval():
    lo, hi = binomial_interval(5, 100)
    assert lo == pytest.approx(0.01643, abs=1e-4) and hi == pytest.approx(0.11284, abs=1e-4)  # Clopper-Pearson
    assert binomial_interval(0, 10)[0] == 0.0 and binomial_interval(10, 10)[1] == 1.0
    assert binomial_interval(5, 100, 0.99)[0] < lo
    for k, n in [(-1, 10), (11, 10), (1, 0), (1.5, 10)]:
        with pytest.raises(ValueError, match="integers"):
            binomial_interval(k, n)
    with pytest.raises(ValueError, match="level"):
        binomial_interval(1, 10, 1.5)


def test_precision_recall_at_rate():
    s = np.array([9.0, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    assert precision_recall_at_rate(s, y, 0.2) == (0.5, pytest.approx(1 / 3))
    assert precision_recall_at_rate(s, y, 1.0) == (0.3, 1.0)
    with pytest.raises(ValueError, match="rate"):
        precision_recall_at_rate(s, y, 0.0)
    with pytest.raises(ValueError, match="no positive"):
        precision_recall_at_rate(s, np.zeros(10), 0.5)


def test_bootstrap_detection_table_points_intervals_and_ties():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    kind = np.array(["normal"] * 300 + ["jump"] * 15 + ["sector"] * 15, dtype=object)
    good = np.r_[rng.normal(size=300), rng.normal(3, 1, 30)]
    tied = np.round(good)  # many ties: the vectorised average precision must treat them as scikit-learn does
    bt = bootstrap_detection_table({"good": good, "tied": tied, "random": rng.normal(size=330)}, kind, n_boot=300, seed=0)
    pt = detection_table({"good": good, "tied": tied, "random": rng.normal(size=330)}, kind)
    assert np.allclose(bt.loc[("jump", "good"), "pr_auc"], pt.loc[("jump", "good"), "pr_auc"])
    assert (bt["pr_auc_low"] <= bt["pr_auc"] + 1e-12).all() and (bt["pr_auc"] <= bt["pr_auc_high"] + 1e-12).all()
    assert (bt["precision_at_k_low"] <= bt["precision_at_k_high"]).all()
    assert bt.loc[("all", "good"), "pr_auc_low"] > bt.loc[("all", "random"), "pr_auc_high"]
    assert set(bt.index.get_level_values("kind")) == {"jump", "sector", "all"}
    from course_lib.anomalies import _ap_and_pk

    y = (kind != "normal").astype(np.int8)
    ap, pk = _ap_and_pk(tied[None, :], y[None, :], 30)
    assert ap[0] == pytest.approx(average_precision_score(y, tied))
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_detection_table({"g": good}, kind, n_boot=10)
    with pytest.raises(ValueError, match="level"):
        bootstrap_detection_table({"g": good}, kind, level=1.0)


def test_ewma_scale_has_no_look_ahead_and_matches_the_recursion():
    rng = np.random.default_rng(0)
    R = rng.normal(size=(200, 3)) * np.r_[np.ones(100), 3 * np.ones(100)][:, None]
    out = ewma_scale(R, halflife=10.0, warmup=20)
    assert np.isnan(out[:20]).all() and np.isfinite(out[20:]).all()
    lam = 0.5 ** (1 / 10)
    var = (R[:20] ** 2).mean(0)
    for t in range(20, 200):  # the textbook loop
        assert np.allclose(out[t], R[t] / np.sqrt(var))
        var = lam * var + (1 - lam) * R[t] ** 2
    R2 = R.copy()
    R2[150:] *= 10  # changing the future leaves the past unchanged, and day 150 is scaled by the evening before
    out2 = ewma_scale(R2, halflife=10.0, warmup=20)
    assert np.allclose(out2[20:150], out[20:150]) and np.allclose(out2[150], 10 * out[150])
    assert 0.8 < np.nanstd(out[120:]) < 1.4  # the volatility jump is divided out
    df = pd.DataFrame(R, index=pd.date_range("2020-01-01", periods=200), columns=list("abc"))
    out_df = ewma_scale(df, warmup=20)
    assert isinstance(out_df, pd.DataFrame) and out_df.index.equals(df.index)
    with pytest.raises(ValueError, match="halflife"):
        ewma_scale(R, halflife=0.0)
    with pytest.raises(ValueError, match="warmup"):
        ewma_scale(R, warmup=200)
    with pytest.raises(ValueError, match="constant zero"):
        ewma_scale(np.c_[np.zeros(50), np.ones(50)], warmup=10)
    with pytest.raises(ValueError, match="NaN"):
        ewma_scale(np.full((50, 2), np.nan))


def test_choose_n_components_finds_the_factor_count():
    rng = np.random.default_rng(0)
    for k_true in (1, 3, 6):
        B = rng.normal(size=(40, k_true))
        B = np.sqrt(2) * B / np.linalg.norm(B, axis=1, keepdims=True)  # every stock: factor variance 2, noise 1
        X = rng.normal(size=(1500, k_true)) @ B.T + rng.normal(size=(1500, 40))
        assert choose_n_components(X) == k_true
    assert choose_n_components(rng.normal(size=(500, 10))) <= 2  # pure noise: at most the edge's sampling slack
    X = rng.normal(size=(1000, 1)) @ np.ones((1, 10)) + 0.1 * rng.normal(size=(1000, 10))
    assert choose_n_components(X, method="variance", variance=0.9) == 1
    with pytest.raises(ValueError, match="method"):
        choose_n_components(X, method="elbow")
    with pytest.raises(ValueError, match="constant"):
        choose_n_components(np.c_[np.ones(20), rng.normal(size=20)])
    with pytest.raises(ValueError, match="variance"):
        choose_n_components(X, method="variance", variance=1.0)


def test_baseline_calibrate_uses_held_out_rows(data):
    X, _ = data
    det = MahalanobisDetector(contamination=0.1).fit(X[:300])
    before = det.offset_
    det.calibrate(X[300:])
    assert det.offset_ == -conformal_threshold(det.anomaly_score(X[300:]), 0.1) and det.offset_ != before


def test_old_latent_names_still_importable_from_anomalies():
    for name in (
        "encode",
        "decode",
        "residual_std",
        "vae_scenarios",
        "interpolate_latent",
        "sample_near_encoding",
        "augment_near_encodings",
        "jitter_augment",
    ):
        assert getattr(anomalies, name) is getattr(latent, name)
        assert name in anomalies.__all__
