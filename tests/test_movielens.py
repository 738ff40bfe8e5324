"""course_lib.data.movielens: local MovieLens-100k, from the RecBole wheel or GroupLens's u.data."""

import importlib.util

import pandas as pd
import pytest

from course_lib.data import load_movielens_100k
from course_lib.data import movielens as ml

HAS_RECBOLE = importlib.util.find_spec("recbole") is not None


@pytest.mark.skipif(not HAS_RECBOLE, reason="recbole wheel (data only) not installed: make installs it")
def test_recbole_copy_is_the_full_data_set():
    df = load_movielens_100k()
    assert df.shape == (100_000, 4) and list(df.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert df["user_id"].nunique() == 943 and df["item_id"].nunique() == 1682
    assert set(df["rating"].unique()) == {1, 2, 3, 4, 5}
    assert df["timestamp"].dtype.kind == "i"


def test_reads_grouplens_u_data_the_same_way(tmp_path):
    p = tmp_path / "u.data"
    p.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t51\t5\t881250000\n")
    df = load_movielens_100k(p)
    assert df.shape == (3, 4) and df["user_id"].tolist() == [186, 196, 196]
    assert df.loc[1, "item_id"] == 51, "sorted by user, then time"
    q = tmp_path / "ml.inter"
    q.write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n")
    assert load_movielens_100k(q).iloc[0].tolist() == [196, 242, 3.0, 881250949]


def test_missing_or_bad_files_explain_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="grouplens.org"):
        load_movielens_100k(tmp_path / "nope.data")
    monkeypatch.setattr(ml.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps recbole==1.2.1"):
        load_movielens_100k()
    bad = tmp_path / "bad.data"
    bad.write_text("1\t2\t3\n")
    with pytest.raises(ValueError, match="4"):
        load_movielens_100k(bad)
    nan = tmp_path / "nan.data"
    nan.write_text("1\t2\t\t5\n")
    with pytest.raises(ValueError, match="missing"):
        load_movielens_100k(nan)
    assert isinstance(pd.DataFrame(), pd.DataFrame)
