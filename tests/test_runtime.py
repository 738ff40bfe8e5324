import random

import numpy as np
import pytest
import torch

import course_lib
from course_lib import configure_threads, get_device, set_seed
from course_lib.models import VAE
from course_lib.train import fit


def test_set_seed_repeats_python_numpy_torch():
    set_seed(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(3)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
    set_seed(4)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != a


def test_set_seed_returns_none_and_rejects_bad_seeds():
    assert set_seed(0) is None
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="seed"):
            set_seed(bad)


def test_training_repeats_to_the_last_digit_on_cpu():
    X = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)

    def run():
        set_seed(11)
        m = VAE(6, 2, (8,))
        h = fit(m, X, epochs=3, batch_size=16, device="cpu", seed=11, progress=False)
        return h.train_loss, [p.detach().clone() for p in m.parameters()]

    (l1, p1), (l2, p2) = run(), run()
    assert l1 == l2
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))


def test_get_device(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type == expected
    assert get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA was requested"):
            get_device("cuda")


def test_threads_default_to_one_and_follow_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_NUM_THREADS", raising=False)
    assert configure_threads() == 1 and torch.get_num_threads() == 1
    monkeypatch.setenv("COURSE_NUM_THREADS", "2")
    assert configure_threads() == 2 and torch.get_num_threads() == 2
    monkeypatch.setenv("COURSE_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="positive integer"):
        configure_threads()
    with pytest.raises(ValueError):
        configure_threads(0)
    configure_threads(1)


def test_threads_limit_blas_and_openmp_too():
    from threadpoolctl import threadpool_info

    configure_threads(1)
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())


def test_package_exports():
    assert {"set_seed", "get_device"} <= set(course_lib.__all__)
