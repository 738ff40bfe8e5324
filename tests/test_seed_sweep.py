"""The seed sweep (``make seeds``) reads asserts correctly, and its committed report is current."""

from __future__ import annotations

import pytest

from benchmarks.seed_sweep import _margin, extract_comparisons, parse_seeds


def test_parse_seeds_ranges_and_lists():
    assert parse_seeds("1-20") == list(range(1, 21))
    assert parse_seeds("3,1,2-4") == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="backwards"):
        parse_seeds("5-1")
    with pytest.raises(ValueError, match="range like"):
        parse_seeds("a")


def test_two_sided_chain_gives_two_bounds():
    lo, hi = extract_comparisons("d = 1\nassert -0.06 < d < 0.0")
    assert (lo.quantity, lo.bound, lo.kind) == ("d", -0.06, "lower")
    assert (hi.quantity, hi.bound, hi.kind) == ("d", 0.0, "upper")


def test_and_all_and_calls_are_unpacked():
    comps = extract_comparisons("assert abs(d) < 0.02 and abs(d) < 3 * se\nassert (t['a'] > t[m] + 0.04).all()")
    assert [c.text for c in comps] == ["abs(d) < 0.02", "abs(d) < 3 * se", "t['a'] > t[m] + 0.04"]
    assert comps[0].bound == 0.02 and comps[1].bound is None and comps[2].bound is None


def test_equality_nested_and_magic_cells_are_not_summarised():
    assert extract_comparisons("assert n == 5") == []
    assert extract_comparisons("for x in xs:\n    assert x < 1") == []
    assert extract_comparisons("%time x = 1\nassert x < 2") == []


def test_margin_is_the_worst_element_and_negative_when_failing():
    assert _margin("upper", [0.1, 0.3], [0.5]) == pytest.approx(0.2)
    assert _margin("lower", [0.1], [0.2]) == pytest.approx(-0.1)
    assert _margin("upper", None, [1.0]) is None


def test_the_committed_sweep_report_is_current():
    """Every notebook was swept on at least 20 seeds since its code last changed, and passed on all of them."""
    import json
    from pathlib import Path

    import nbformat

    from benchmarks.seed_sweep import JSON_PATH, MD_PATH, ROOT, code_hash

    assert JSON_PATH.exists() and MD_PATH.exists(), "no sweep report: run `make seeds`"
    data = json.loads(JSON_PATH.read_text())["notebooks"]
    notebooks = sorted([*Path(ROOT).glob("notebooks/*.ipynb"), *Path(ROOT).glob("solutions/*.ipynb")])
    for path in notebooks:
        rel = str(path.relative_to(ROOT))
        entry = data.get(rel)
        assert entry, f"{rel} was never swept: run `make seeds SWEEP={rel}`"
        assert entry["code_hash"] == code_hash(nbformat.read(path, as_version=4)), (
            f"{rel} changed after its sweep: run `make seeds SWEEP={rel}`"
        )
        assert len(entry["seeds"]) >= 20, f"{rel} was swept on {len(entry['seeds'])} seeds; the rule is 20"
        assert entry["seeds_passed"] == len(entry["seeds"]), f"{rel} failed on some seeds: see {MD_PATH.name}"
