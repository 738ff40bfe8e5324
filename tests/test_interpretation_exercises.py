"""Every chapter's exercises end with one interpretation exercise: predict, then run, then explain.

The shape (CONTRIBUTING.md): a ``## Exercise N · Predict, then run: ...`` heading; a written answer cell for the
prediction (graded by hand); a code cell, not an answer cell, that runs the experiment and prints what it measured
but asserts nothing (an assert, or a comment with the seed range, would show the answer before the learner
predicts); a written answer cell for the explanation; then a code cell that asserts the model answer's claims. The
learner's copy holds neither model answer.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
HEADING = re.compile(r"^## Exercise \d+\s*[·:.-]\s*Predict, then run\b", re.M)


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _is_written_answer(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def interpretation_cells(nb: dict) -> list[dict]:
    """The cells from the 'Predict, then run' heading to the next level-2 heading (or the end)."""
    cells = nb["cells"]
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and HEADING.search(_src(c))), None)
    if start is None:
        return []
    out = [cells[start]]
    for c in cells[start + 1 :]:
        if c["cell_type"] == "markdown" and re.search(r"^## ", _src(c), re.M):
            break
        out.append(c)
    return out


def check_shape(cells: list[dict]) -> list[str]:
    """Problems with an interpretation exercise's cells (empty when it has the prescribed shape)."""
    if not cells:
        return ["no '## Exercise N · Predict, then run: ...' heading"]
    kinds = ["written" if _is_written_answer(c) else c["cell_type"] for c in cells[1:]]
    problems = []
    try:
        first = kinds.index("written")
        run = kinds.index("code", first)
        explain = kinds.index("written", run)
        check = kinds.index("code", explain)
    except ValueError:
        return [f"expected a written prediction, a run cell, a written explanation and a check cell, in that order; got {kinds}"]
    body = cells[1:]
    code = _src(body[run])
    if "### BEGIN SOLUTION" in code or body[run].get("metadata", {}).get("nbgrader", {}).get("solution"):
        problems.append("the run cell is an answer cell: the learner predicts, the course runs")
    if "print(" not in code:
        problems.append("the run cell prints nothing")
    if re.search(r"^\s*assert\b|#.*\bseeds?\b", code, re.M):
        problems.append("the run cell shows the answer before the prediction: move asserts and seed ranges to the check cell")
    if not re.search(r"^\s*assert\b", _src(body[check]), re.M):
        problems.append("the check cell asserts nothing: back the model answer's claim with an assert")
    if not re.search(r"predict", _src(body[first]), re.I):
        problems.append("the first written cell does not ask for a prediction")
    return problems


@pytest.mark.parametrize("name", SOLUTIONS)
def test_each_chapter_ends_with_predict_then_run(name):
    nb = json.loads((ROOT / "solutions" / name).read_text())
    problems = check_shape(interpretation_cells(nb))
    assert not problems, f"solutions/{name}: {problems}"


@pytest.mark.parametrize("name", SOLUTIONS)
def test_the_learner_copy_holds_no_model_answer(name):
    sol = json.loads((ROOT / "solutions" / name).read_text())
    ex = json.loads((ROOT / "exercises" / name).read_text())
    for s, e in zip(interpretation_cells(sol), interpretation_cells(ex)):
        if _is_written_answer(s):
            answer = _src(s).split("### BEGIN SOLUTION", 1)[-1].split("### END SOLUTION", 1)[0]
            for line in answer.splitlines():
                if len(line.strip()) > 20:
                    assert line.strip() not in _src(e), f"exercises/{name}: a model answer line is released: {line!r}"


def test_the_shape_check_can_fail():
    heading = {"cell_type": "markdown", "source": ["## Exercise 5 · Predict, then run: units"], "metadata": {}}
    written = {
        "cell_type": "markdown",
        "source": ["**Your prediction**"],
        "metadata": {"nbgrader": {"solution": True, "grade": True}},
    }
    run = {"cell_type": "code", "source": ["print(x)"], "metadata": {}}
    check = {"cell_type": "code", "source": ["assert x > 0"], "metadata": {}}
    assert check_shape([heading, written, run, written, check]) == []
    assert check_shape([heading, written, written]) != []
    assert check_shape([heading, written, run, written]) != []  # no check cell
    telling = dict(run, source=["print(x)\nassert x > 0  # seeds 1-8: 3 to 5"])
    assert check_shape([heading, written, telling, written, check]) == [
        "the run cell shows the answer before the prediction: move asserts and seed ranges to the check cell"
    ]
    quiet = dict(check, source=["x"])
    assert check_shape([heading, written, run, written, quiet]) == [
        "the check cell asserts nothing: back the model answer's claim with an assert"
    ]
    assert check_shape([]) != []
