"""The classroom cycle with nbgrader itself, offline, for every chapter in one course directory.

generate_assignment releases every chapter (no solution text in the release, and the release
equals exercises/ cell for cell); autograde gives the solutions full marks, the untouched release
zero on every graded exercise, and a submission with one typical mistake loses exactly that
exercise's points; generate_feedback writes HTML that carries the checker's hint for that mistake.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib.exercises import BEGIN, END, make_course, make_exercise

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [p.stem for p in sorted((ROOT / "solutions").glob("*.ipynb"))]
if os.environ.get("ROUNDTRIP_CHAPTERS"):  # a quick local run on some chapters, e.g. ROUNDTRIP_CHAPTERS=00_getting_started
    CHAPTERS = [c for c in CHAPTERS if c in os.environ["ROUNDTRIP_CHAPTERS"].split(",")]

# One typical mistake per chapter: (answer cell, wrong body replacing the solution region, graded cell, hint shown).
MISTAKES = {
    "00_getting_started": ("answer_log_returns", "return prices.pct_change().iloc[1:]", "check_log_returns", "simple returns"),
    "01_autoencoder_embeddings": (
        "answer_train_step",
        "loss = nn.functional.mse_loss(model(x), x)\nloss.backward()\noptimizer.step()\nreturn loss.item()",
        "check_train_step",
        "zero_grad",
    ),
    "02_vae_factors_vs_pca": (
        "answer_kl_normal",
        "return (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)",
        "check_kl_normal",
        "twice too large",
    ),
    "02b_conditional_autoencoder": (
        "answer_my_managed_portfolios",
        'return np.einsum("tnp,tn->tp", characteristics[1:], returns[1:]) / returns.shape[1]',
        "check_managed_portfolios",
        "look-ahead",
    ),
    "03_multvae_recommendation": (
        "answer_multinomial_nll",
        "return (torch.log_softmax(logits, dim=1) * x).sum(dim=1)",
        "check_multinomial_nll",
        "sign",
    ),
    "04_anomaly_detection_and_augmentation": (
        "answer_precision_at_k",
        "top = np.argsort(scores)[:k]\nreturn float(np.asarray(labels)[top].mean())",
        "check_precision_at_k",
        "LOWEST",
    ),
}

pytestmark = pytest.mark.filterwarnings("ignore")


def _with_mistake(nb: nbformat.NotebookNode, answer_id: str, body: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == answer_id)
    lines = cell.source.split("\n")
    b = next(i for i, ln in enumerate(lines) if ln.strip() == BEGIN)
    e = next(i for i, ln in enumerate(lines) if ln.strip() == END)
    indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
    cell.source = "\n".join([*lines[:b], *(indent + ln for ln in body.split("\n")), *lines[e + 1 :]])
    return nb


def _answered(release: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release with every answer cell filled in from the source, as a learner would submit it."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.from_dict(release)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Release every chapter, submit three notebooks per chapter, autograde and write feedback."""
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = tmp_path_factory.mktemp("classroom")
    assert set(CHAPTERS) <= set(make_course(root, ROOT / "solutions"))
    # nbgrader runs `alembic` to set up its gradebook: it must find the one next to this Python.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    cfg.Application.log_level = "ERROR"

    def run(app_cls, assignment: str, student: str = ".") -> None:
        coursedir = CourseDirectory(config=cfg)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        app = app_cls(coursedir=coursedir, config=cfg)
        app.force = True
        app.start()

    for a in CHAPTERS:
        run(GenerateAssignment, a)
    for a in CHAPTERS:
        source = nbformat.read(root / "source" / a / f"{a}.ipynb", as_version=4)
        release = nbformat.read(root / "release" / a / f"{a}.ipynb", as_version=4)
        answer_id, body, _, _ = MISTAKES.get(a, (None, None, None, None))
        subs = {"solutions": _answered(release, source), "untouched": release}
        if answer_id:
            subs["mistake"] = _answered(release, _with_mistake(source, answer_id, body))
        for student, nb in subs.items():
            (root / "submitted" / student / a).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, root / "submitted" / student / a / f"{a}.ipynb")
    for student in ("solutions", "untouched", "mistake"):
        for a in CHAPTERS:
            if (root / "submitted" / student / a).exists():
                run(Autograde, a, student)
    for a in MISTAKES:
        if a in CHAPTERS:
            run(GenerateFeedback, a, "mistake")
    scores = {}
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        for student in ("solutions", "untouched", "mistake"):
            for a in CHAPTERS:
                try:
                    nb = gb.find_submission_notebook(a, a, student)
                except Exception:
                    continue
                scores[student, a] = {
                    g.name: (g.score, g.max_score, g.needs_manual_grade) for g in nb.grades if g.cell_type == "code"
                }
    if os.environ.get("ROUNDTRIP_REPORT"):  # the scores as JSON, for a closing note
        import json

        Path(os.environ["ROUNDTRIP_REPORT"]).write_text(json.dumps({f"{s}/{a}": v for (s, a), v in scores.items()}, indent=1))
    yield root, scores
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_has_no_solution_text_and_equals_exercises(course, chapter):
    root, _ = course
    release = nbformat.read(root / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    source = nbformat.read(root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    assert not any(m in c.source for c in release.cells for m in ("BEGIN SOLUTION", "HIDDEN TESTS"))
    text = "\n".join(c.source for c in release.cells if c.cell_type == "code")  # task text may quote the tutorial's code
    for cell in source.cells:
        for region in re.findall(rf"{re.escape(BEGIN)}\n(.*?)\n\s*{re.escape(END)}", cell.source, re.S):
            for line in region.split("\n"):
                if len(line.strip()) > 12:
                    assert line.strip() not in text, f"{chapter}: solution line released: {line.strip()!r}"
    exercise = nbformat.read(ROOT / "exercises" / f"{chapter}.ipynb", as_version=4)
    assert len(exercise.cells) == len(release.cells)
    for i, (mine, theirs) in enumerate(zip(exercise.cells, release.cells)):
        theirs.metadata.pop("execution", None)
        assert mine == theirs, f"{chapter}, cell {i}: exercises/ differs from nbgrader's release"
    assert make_exercise(source, chapter).cells == exercise.cells


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_autograde_solutions_full_marks_release_zero(course, chapter):
    _, scores = course
    full, untouched = scores["solutions", chapter], scores["untouched", chapter]
    graded = [k for k, (_, _, manual) in full.items() if not manual]
    assert len(graded) >= 3, f"{chapter}: only {len(graded)} autograded exercises"
    for k in graded:
        assert full[k][0] == full[k][1] > 0, f"{chapter}: the solutions lose points on {k}: {full[k]}"
        assert untouched[k][0] == 0, f"{chapter}: the untouched release scores on {k}: {untouched[k]}"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c in MISTAKES])
def test_one_mistake_loses_exactly_that_exercise_and_feedback_names_it(course, chapter):
    root, scores = course
    _, _, graded_id, hint = MISTAKES[chapter]
    full, mistake = scores["solutions", chapter], scores["mistake", chapter]
    for k, (_score, max_score, manual) in full.items():
        if manual:
            continue
        want = 0 if k == graded_id else max_score
        assert mistake[k][0] == want, f"{chapter}: {k} scored {mistake[k][0]}, expected {want}"
    html = (root / "feedback" / "mistake" / chapter / f"{chapter}.html").read_text()
    assert hint in html, f"{chapter}: the feedback does not show the checker's hint {hint!r}"
    assert "_common.py" not in html, "the feedback shows the checker's wrapper frame"
