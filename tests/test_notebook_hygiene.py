"""Committed notebooks are clean: outputs kept, in order, no errors, no machine paths, a parameters cell."""

import json
import re
from pathlib import Path

import pytest

from course_lib import _notebooks
from course_lib._notebooks import KERNELSPEC, WIDGET_MIME, normalise, normalise_file

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


# --- stable diffs and a clean first open in JupyterLab (course_lib._notebooks, run by `make outputs`) ----------


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_kernelspec_is_what_jupyterlab_writes(path):
    # Anything else and JupyterLab rewrites it on open, so a learner's autosave leaves a tracked file changed.
    assert _load(path)["metadata"].get("kernelspec") == KERNELSPEC, "run `python -m course_lib._notebooks` on it"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_no_stored_run_timestamps(path):
    stamped = [i for i, c in enumerate(_load(path)["cells"]) if "execution" in c.get("metadata", {})]
    assert not stamped, f"cells {stamped} store run timestamps (metadata.execution): run `python -m course_lib._notebooks`"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_no_stored_progress_bars_or_widget_state(path):
    nb = _load(path)
    widgets = [i for i, c in enumerate(nb["cells"]) for o in c.get("outputs", []) if WIDGET_MIME in o.get("data", {})]
    assert not widgets, f"cells {widgets} store a widget (a progress bar shows as frozen text such as '0%| | 0/30')"
    assert "widgets" not in nb["metadata"], "stored widget state: run `python -m course_lib._notebooks`"


def _nb(**meta) -> dict:
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {"execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"}, "tags": ["parameters"]},
        "outputs": [
            {"output_type": "display_data", "data": {WIDGET_MIME: {"model_id": "x"}, "text/plain": ["  0%|          | 0/30"]}},
            {"output_type": "stream", "name": "stdout", "text": ["kept\n"]},
        ],
        "source": ["SEED = 0"],
    }
    return {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}, **meta}, "nbformat": 4}


def test_normaliser_fixes_kernelspec_and_drops_timestamps_and_widgets_only():
    nb = _nb(widgets={"state": {}})
    out = normalise(nb)
    assert out["metadata"]["kernelspec"] == KERNELSPEC and "widgets" not in out["metadata"]
    cell = out["cells"][0]
    assert cell["metadata"] == {"tags": ["parameters"]}
    assert cell["outputs"] == [{"output_type": "stream", "name": "stdout", "text": ["kept\n"]}]
    assert cell["execution_count"] == 1 and cell["source"] == ["SEED = 0"]
    assert "execution" in nb["cells"][0]["metadata"], "the input is not modified"
    assert normalise(out) == out


def test_normaliser_file_and_command_line(tmp_path, capsys):
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(_nb()))
    assert _notebooks.main(["--check", str(path)]) == 1
    assert "would normalise" in capsys.readouterr().out
    assert _notebooks.main([str(path)]) == 0
    assert _notebooks.main(["--check", str(path)]) == 0
    assert not normalise_file(path), "a normalised file is left byte for byte unchanged"


@pytest.mark.parametrize("bad", [{"cells": []}, {"nbformat": 4}, [], {"cells": {}, "nbformat": 4}])
def test_normaliser_rejects_what_is_not_a_notebook(bad):
    with pytest.raises(ValueError, match="nbformat-4 notebook"):
        normalise(bad)


def test_make_outputs_stores_no_timestamps_and_normalises():
    mk = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^outputs: .*\n((?:\t.*\n)+)", mk, re.M).group(1)
    assert "--ExecutePreprocessor.record_timing=False" in recipe
    assert "-m course_lib._notebooks $(NOTEBOOKS)" in recipe
    assert recipe.index("course_lib._notebooks") < recipe.index("course_lib.exercises"), "normalise before generating exercises"
