"""Committed notebooks are clean: outputs kept, in order, no errors, no machine paths, a parameters cell."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORED = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
ALL = STORED + sorted(ROOT.glob("exercises/*.ipynb"))
ABS_PATH = re.compile(r"(/home/|/Users/|/root/|/work/|/tmp/|/opt/|site-packages|[A-Z]:\\\\)")


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


def test_there_are_notebooks():
    assert (ROOT / "notebooks" / "00_getting_started.ipynb").exists()


@pytest.mark.parametrize("path", STORED, ids=_ids(STORED))
def test_stored_notebooks_keep_outputs_in_order_without_errors(path):
    nb = _load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert any(c["outputs"] for c in code), "store the outputs (run `make outputs`)"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"execution counts {counts} are stale or out of order: run `make outputs`"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"a stored traceback in cell {counts and c['execution_count']}"
            if out["output_type"] == "stream":
                assert "Traceback" not in "".join(out["text"])
    figs = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    if path.parent.name == "notebooks":
        assert figs, "a chapter shows figures"
    mpl_repr = re.compile(r"^\[?<(Figure|Axes|matplotlib)|^Text\(")
    leftovers = [
        o
        for c in code
        for o in c["outputs"]
        if o["output_type"] == "execute_result" and mpl_repr.match("".join(o.get("data", {}).get("text/plain", "")))
    ]
    assert not leftovers, "end plotting cells with plt.show() so no matplotlib object repr is stored as the cell's result"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_no_absolute_machine_paths(path):
    text = path.read_text()
    hits = sorted(set(ABS_PATH.findall(text)))
    assert not hits, f"machine-specific paths in {path.name}: {hits}"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_first_code_cell_is_a_parameters_cell_with_seed(path):
    nb = _load(path)
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "parameters" in first.get("metadata", {}).get("tags", []), "tag the first code cell 'parameters'"
    assert re.search(r"^SEED = \d+", "".join(first["source"]), re.M), "the parameters cell defines SEED"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/*.ipynb")), ids=_ids(sorted(ROOT.glob("notebooks/*.ipynb"))))
def test_chapters_follow_the_teaching_structure(path):
    nb = _load(path)
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert md.lstrip().startswith("# "), "a chapter opens with its title"
    for heading in ("objectives", "takeaways", "exercises"):
        assert re.search(rf"^#+ .*{heading}", md, re.I | re.M), f"missing a '{heading}' section"
    assert "$" in md, "the math is written in LaTeX"
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "set_seed(SEED)" in code and "get_device()" in code
    assert code.count("assert ") >= 3, "claims in the prose are backed by asserts"
