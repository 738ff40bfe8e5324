import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib.models import VAE  # noqa: E402
from course_lib.plots import plot_correlation_heatmap, plot_latent_scatter, plot_training_curves  # noqa: E402
from course_lib.scenarios import (  # noqa: E402
    bootstrap_scenarios,
    correlation_distance,
    discriminator_auc,
    gaussian_scenarios,
    mean_pairwise_correlation,
    stylised_facts,
)
from course_lib.train import fit  # noqa: E402


def test_plots_have_titles_labels_and_legends():
    X = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    h = fit(VAE(5, 2, (8,)), X, epochs=3, val_fraction=0.25, progress=False)
    ax = plot_training_curves(h, title="t")
    assert ax.get_title() == "t" and ax.get_xlabel() == "epoch" and ax.get_legend() is not None
    assert any("KL" in t.get_text() for t in ax.get_legend().get_texts())
    ax = plot_latent_scatter(np.random.rand(10, 4), labels=["a", "b"] * 5, title="z")
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 2 and "PC" in ax.get_xlabel()
    c = pd.DataFrame(np.eye(3), index=list("abc"), columns=list("abc"))
    ax = plot_correlation_heatmap(c, title="c")
    assert ax.get_title() == "c"
    with pytest.raises(ValueError, match="square"):
        plot_correlation_heatmap(np.ones((2, 3)))
    with pytest.raises(ValueError):
        plot_latent_scatter(np.ones(5))
    plt.close("all")


def test_baseline_scenarios_match_the_data_moments():
    rng = np.random.default_rng(0)
    C = np.array([[1, 0.6, 0.3], [0.6, 1, 0.2], [0.3, 0.2, 1]])
    X = rng.multivariate_normal(np.zeros(3), C, size=4000)
    g = gaussian_scenarios(X, 4000, seed=1)
    b = bootstrap_scenarios(X, 4000, seed=1)
    assert g.shape == b.shape == (4000, 3)
    assert correlation_distance(X, g) < 0.05 and correlation_distance(X, b) < 0.05
    assert correlation_distance(X, rng.normal(size=(4000, 3))) > 0.25
    assert mean_pairwise_correlation(X) == pytest.approx(np.mean([0.6, 0.3, 0.2]), abs=0.05)


def test_bootstrap_resamples_real_rows():
    X = np.arange(20.0).reshape(10, 2)
    b = bootstrap_scenarios(X, 30, seed=0)
    assert all((row == X).all(axis=1).any() for row in b)


def test_stylised_facts_detect_heavy_tails_and_volatility_clustering():
    rng = np.random.default_rng(0)
    n = 5000
    vol = np.exp(np.convolve(rng.normal(0, 0.3, n), np.ones(50) / 7, mode="same"))
    garchy = rng.normal(size=(n, 4)) * vol[:, None]
    iid = rng.normal(size=(n, 4))
    f, g = stylised_facts(garchy), stylised_facts(iid)
    assert f["excess_kurtosis"] > 1 and abs(g["excess_kurtosis"]) < 0.3
    assert f["acf1_abs_returns"] > 0.1 and abs(g["acf1_abs_returns"]) < 0.05
    assert abs(f["acf1_returns"]) < 0.05


def test_discriminator_auc_separates_fakes_but_not_copies():
    rng = np.random.default_rng(0)
    real = rng.standard_t(3, size=(600, 5))
    assert discriminator_auc(real, rng.standard_t(3, size=(600, 5))) < 0.6
    assert discriminator_auc(real, 5 * rng.normal(size=(600, 5))) > 0.8
    with pytest.raises(ValueError, match="assets"):
        discriminator_auc(real, real[:, :3])


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_scenario_generators_reject_a_bad_count(n):
    X = np.random.default_rng(0).normal(size=(20, 3))
    for gen in (gaussian_scenarios, bootstrap_scenarios):
        with pytest.raises(ValueError, match="positive integer"):
            gen(X, n)
