"""The exercise system: generator behaviour, and exercises/ in sync with solutions/."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.exercises import STUB, make_exercise, out_of_date

ROOT = Path(__file__).resolve().parents[1]


def _nb(*cells):
    return new_notebook(cells=list(cells))


def test_solution_region_becomes_an_indented_stub_with_hints():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    # HINT: square it\n    y = x * x\n    return y\n    ### END SOLUTION\nprint(f)"
    cell = new_code_cell(src, execution_count=3, outputs=[nbformat.v4.new_output("stream", text="hi")])
    ex = make_exercise(_nb(cell))
    out = ex.cells[0]
    assert out.source == f"def f(x):\n    # HINT: square it\n    # YOUR CODE HERE\n    {STUB}\nprint(f)"
    assert out.outputs == [] and out.execution_count is None
    assert "y = x * x" not in out.source
    assert cell.source == src, "the solution notebook is not modified"


def test_hidden_tests_are_removed_and_markdown_answers_blanked():
    nb = _nb(
        new_code_cell("check_f(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS"),
        new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
    )
    ex = make_exercise(nb)
    assert ex.cells[0].source == "check_f(f)"
    assert ex.cells[1].source == "Why?\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "src, match",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without a matching"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", "cannot nest"),
        ("### BEGIN HIDDEN TESTS\nx\n### END SOLUTION", "without a matching"),
    ],
)
def test_malformed_regions_are_errors(src, match):
    with pytest.raises(ValueError, match=match):
        make_exercise(_nb(new_code_cell(src)), "bad.ipynb")


def test_generated_exercises_raise_not_implemented(tmp_path):
    nb = _nb(new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"), new_code_cell("f(1)"))
    ex = make_exercise(nb)
    ns: dict = {}
    exec(ex.cells[0].source, ns)
    with pytest.raises(NotImplementedError):
        exec(ex.cells[1].source, ns)


def test_out_of_date_detects_stale_missing_and_orphaned(tmp_path):
    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir()
    dst.mkdir()
    nbformat.write(_nb(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")), src / "a.ipynb")
    assert out_of_date(src, dst) == ["solutions/a.ipynb (nbgrader metadata differs from the derived one)", "a.ipynb (missing)"]
    from course_lib.exercises import write_metadata

    assert write_metadata(src) == [src / "a.ipynb"]
    assert out_of_date(src, dst) == ["a.ipynb (missing)"]
    nbformat.write(make_exercise(nbformat.read(src / "a.ipynb", as_version=4)), dst / "a.ipynb")
    assert out_of_date(src, dst) == []
    nbformat.write(_nb(new_code_cell("x = 1")), dst / "a.ipynb")
    nbformat.write(_nb(), dst / "zzz.ipynb")
    assert out_of_date(src, dst) == ["a.ipynb (stale)", "zzz.ipynb (no solution notebook)"]


def test_exercises_folder_is_in_sync_with_solutions():
    problems = out_of_date(ROOT / "solutions", ROOT / "exercises")
    assert not problems, f"exercises/ is out of date: {problems}. Run `make exercises`."


def test_every_solution_notebook_has_at_least_three_checked_exercises():
    sols = sorted((ROOT / "solutions").glob("*.ipynb"))
    assert sols, "solutions/ holds no notebooks"
    for path in sols:
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        n_regions = code.count("### BEGIN SOLUTION")
        assert n_regions >= 3, f"{path.name}: only {n_regions} exercises"
        assert code.count("check_") >= 3, f"{path.name}: every exercise needs a checker call from course_lib.checks"
        ex = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
        ex_code = "\n".join(c.source for c in ex.cells if c.cell_type == "code")
        assert ex_code.count(STUB) == n_regions
        assert "### BEGIN SOLUTION" not in ex_code


def test_every_chapter_has_a_solution_exercise_pair():
    chapters = [p.name for p in sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))]
    for name in chapters:
        assert (ROOT / "solutions" / name).exists(), f"solutions/{name} is missing"
        assert (ROOT / "exercises" / name).exists(), f"exercises/{name} is missing"


def test_generate_and_command_line_check(tmp_path, capsys):
    from course_lib.exercises import generate, main

    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir()
    nbformat.write(_nb(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")), src / "a.ipynb")
    assert main(["--src", str(src), "--dst", str(dst), "--check"]) == 1
    assert "make exercises" in capsys.readouterr().out
    assert generate(src, dst) == [dst / "a.ipynb"]
    assert main(["--src", str(src), "--dst", str(dst), "--check"]) == 1, "solutions/ still lacks its metadata"
    assert main(["--src", str(src), "--dst", str(dst)]) == 0
    assert main(["--src", str(src), "--dst", str(dst), "--check"]) == 0
    assert STUB in nbformat.read(dst / "a.ipynb", as_version=4).cells[0].source


# ---- nbgrader metadata derived from the markers ------------------------------------------------
def test_derived_metadata_marks_answers_tests_and_read_only_cells():
    from course_lib.exercises import derive_metadata

    nb = _nb(
        new_markdown_cell("## Exercise 1: square\n\nWrite f."),
        new_code_cell("import numpy as np\nfrom course_lib.checks import check_f"),
        new_code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    # HINT: multiply\n    return x * x\n"
            "    ### END SOLUTION\n\n\ncheck_f(f)\ny = f(2)"
        ),
        new_code_cell("z = 1"),
        new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
    )
    out = derive_metadata(nb)
    g = [c.metadata.get("nbgrader") for c in out.cells]
    assert len(out.cells) == 7, "the answer, its checker call and the code after it are split into three cells"
    assert g[0]["locked"] and not g[0]["grade"] and g[0]["grade_id"] == "text_exercise_1_square"
    assert g[1]["locked"] and g[1]["grade_id"] == "imports"
    assert g[2]["solution"] and not g[2]["grade"] and g[2]["grade_id"] == "answer_f"
    want = "def f(x):\n    # HINT: multiply\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
    assert out.cells[2].source == want
    assert g[3]["grade"] and g[3]["locked"] and g[3]["points"] == 1 and g[3]["grade_id"] == "check_f"
    assert out.cells[3].source == "check_f(f)"
    assert out.cells[4].source == "y = f(2)" and g[4] is None, "code after the check is not graded"
    assert g[5] is None, "given code stays editable and ungraded"
    assert g[6]["solution"] and g[6]["grade"] and g[6]["points"] == 1, "a written answer is graded by hand"
    assert derive_metadata(out) == out, "deriving is idempotent"
    ids = [x["grade_id"] for x in g if x]
    assert len(ids) == len(set(ids))


def test_hidden_tests_outside_a_graded_cell_are_an_error():
    from course_lib.exercises import derive_metadata

    with pytest.raises(ValueError, match="hidden-test region"):
        derive_metadata(_nb(new_code_cell("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS")))


def test_stored_solution_metadata_equals_the_derived_one():
    from course_lib.exercises import derive_metadata

    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert derive_metadata(nb, path.name) == nb, f"{path.name}: run `make exercises` to store the derived metadata"
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
        assert len(graded) >= 3, f"{path.name}: {len(graded)} graded cells"


def test_exercise_stubs_contain_no_line_of_the_solution():
    import re

    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        ex = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
        released = "\n".join(c.source for c in ex.cells if c.cell_type == "code")
        hints = [ln for c in ex.cells for ln in c.source.split("\n") if "# HINT:" in ln]
        for cell in nb.cells:
            for region in re.findall(r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION", cell.source, re.S):
                for line in region.split("\n"):
                    code = line.strip()
                    if len(code) > 12 and not code.startswith("#"):
                        assert code not in released, f"{path.name}: the stub gives away {code!r}"
                        assert not any(code in h for h in hints), f"{path.name}: a HINT gives away {code!r}"
