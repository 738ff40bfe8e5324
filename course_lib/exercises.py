"""Learner notebooks (``exercises/``) and nbgrader metadata, both derived from ``solutions/``.

``solutions/`` is the single source. Its authors write only markers; this module derives
everything else. In a code cell, every region::

    # HINT: the standard deviation comes from the log-variance (see the chapter's section 2)
    ### BEGIN SOLUTION
    ...answer...
    ### END SOLUTION

becomes, with the indentation kept::

    # HINT: the standard deviation comes from the log-variance (see the chapter's section 2)
    # YOUR CODE HERE
    raise NotImplementedError("Exercise: replace this line with your code.")

``# HINT:`` lines written *inside* a region (the older convention) are moved just above it,
so nbgrader's own release (which drops everything inside a region) keeps them too. Regions
between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are removed (grader only). In
markdown cells a solution region becomes ``YOUR ANSWER HERE``. Outputs and execution counts are
cleared. Nested or unclosed regions are errors.

nbgrader cell metadata (:func:`derive_metadata`), derived from the markers and checker calls:

- a cell with a solution region is a *solution* cell (code: autograded answer; markdown: a
  manually graded answer worth ``MANUAL_POINTS``);
- a code cell with a top-level checker call (a line starting ``check_...(``) is an *autograded
  test* cell worth ``POINTS`` (one exercise, one graded cell); hidden-test regions must sit in one;
- task text (markdown) and the cell importing the checkers are *read-only* (locked);
- a cell holding both an answer and its checker call is split (answer; the call; any code after it).

Command line (what ``make exercises`` runs)::

    python -m course_lib.exercises              # write nbgrader metadata into solutions/, then exercises/
    python -m course_lib.exercises --metadata   # only write the derived metadata into solutions/
    python -m course_lib.exercises --check      # exit 1 if solutions/ metadata or exercises/ is out of date
    python -m course_lib.exercises --course classroom   # an nbgrader course directory (what `make release` uses)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'
CODE_STUB = f"# YOUR CODE HERE\n{STUB}"  # nbgrader: ClearSolutions.code_stub = {"python": CODE_STUB}
TEXT_STUB = "YOUR ANSWER HERE"
POINTS = 1  # points of an autograded exercise
MANUAL_POINTS = 1  # points of a written (markdown) answer, graded by hand
SCHEMA_VERSION = 3
_HINT = re.compile(r"^\s*# HINT:")
_CHECK_CALL = re.compile(r"^(check_\w+)\(")
_MARKERS = (BEGIN, END, BEGIN_HIDDEN, END_HIDDEN)


def _check_regions(source: str, where: str) -> None:
    mode: str | None = None
    for lineno, line in enumerate(source.splitlines(), 1):
        tag = line.strip()
        if tag in (BEGIN, BEGIN_HIDDEN):
            if mode is not None:
                raise ValueError(f"{where}, line {lineno}: '{tag}' inside an open '{mode}' region (regions cannot nest).")
            mode = tag
        elif tag in (END, END_HIDDEN):
            expected = BEGIN if tag == END else BEGIN_HIDDEN
            if mode != expected:
                raise ValueError(f"{where}, line {lineno}: '{tag}' without a matching '{expected}'.")
            mode = None
    if mode is not None:
        raise ValueError(f"{where}: '{mode}' is never closed.")


def _hoist_hints(source: str) -> str:
    """Move ``# HINT:`` lines from inside solution regions to just above the region's BEGIN line."""
    lines = source.splitlines()
    out: list[str] = []
    begin_at: int | None = None
    for line in lines:
        tag = line.strip()
        if tag == BEGIN:
            begin_at = len(out)
            out.append(line)
        elif tag == END:
            begin_at = None
            out.append(line)
        elif begin_at is not None and _HINT.match(line):
            out.insert(begin_at, line)
            begin_at += 1
        else:
            out.append(line)
    return "\n".join(out)


def _strip_source(source: str, *, markdown: bool, where: str) -> str:
    _check_regions(source, where)
    out: list[str] = []
    mode: str | None = None
    for line in _hoist_hints(source).splitlines():
        tag = line.strip()
        if tag in (BEGIN, BEGIN_HIDDEN):
            mode = tag
            if tag == BEGIN:
                indent = line[: len(line) - len(line.lstrip())]
                stub = TEXT_STUB if markdown else CODE_STUB
                out.extend(indent + s for s in stub.split("\n"))
        elif tag in (END, END_HIDDEN):
            mode = None
        elif mode is None:
            out.append(line)
    return "\n".join(out)


def _slug(text: str, fallback: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    s = re.sub(r"[^a-z0-9]+", "_", first.lower().lstrip("#* ")).strip("_")[:40].strip("_")
    return s or fallback


def _answer_name(source: str, fallback: str) -> str:
    m = re.search(r"^\s*def (\w+)\(", source, re.M) or re.search(r"^(\w+)\s*=", source, re.M)
    return m.group(1) if m else fallback


def _split_answer_and_check(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Split a code cell holding a solution region followed by a top-level checker call.

    The result is the answer cell, the graded cell (the checker call(s) and any hidden tests right after
    them) and, when code follows, a plain cell with that code: a wrong answer then costs its own point only,
    not the next exercise's, which may use what the rest of the cell defines.
    """
    lines = cell.source.split("\n")
    ends = [i for i, ln in enumerate(lines) if ln.strip() == END]
    if cell.cell_type != "code" or not ends:
        return [cell]
    cut = next((i for i in range(ends[-1] + 1, len(lines)) if _CHECK_CALL.match(lines[i])), None)
    if cut is None:
        return [cell]
    stop, hidden = cut, False
    while stop < len(lines) and (hidden or _CHECK_CALL.match(lines[stop]) or lines[stop].strip() == BEGIN_HIDDEN):
        tag = lines[stop].strip()
        hidden = (hidden or tag == BEGIN_HIDDEN) and tag != END_HIDDEN
        stop += 1
    rest = "\n".join(lines[stop:]).strip("\n")
    answer, graded = copy.deepcopy(cell), copy.deepcopy(cell)
    answer.source = "\n".join(lines[:cut]).rstrip()
    graded.source = "\n".join(lines[cut:stop])
    graded.metadata = nbformat.NotebookNode({k: v for k, v in cell.metadata.items() if k != "tags"})
    answer.outputs, answer.execution_count = [], None
    out = [answer, graded]
    if rest:
        use = copy.deepcopy(graded)
        use.source = rest
        graded.outputs, graded.execution_count = [], None
        out.append(use)
    for c, suffix in zip(out[1:], ("check", "use")):
        if "id" in cell:
            c["id"] = f"{cell['id'][:58]}-{suffix}"
    return out


def _unique(name: str, used: set[str]) -> str:
    out, n = name, 2
    while out in used:
        out, n = f"{name}_{n}", n + 1
    used.add(out)
    return out


def derive_metadata(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return a copy of a solution notebook with nbgrader metadata derived from its markers.

    Hints are moved out of solution regions, answer+checker cells are split, and every cell's
    ``metadata["nbgrader"]`` is set (or removed) as described in the module docstring. The
    function is idempotent: applied to its own output it returns an equal notebook.
    """
    src = copy.deepcopy(nb)
    cells: list[nbformat.NotebookNode] = []
    for i, cell in enumerate(src.cells):
        if cell.cell_type in ("code", "markdown"):
            _check_regions(cell.source, f"{name}, cell {i}")
            if BEGIN in cell.source:
                cell.source = _hoist_hints(cell.source)
        cells.extend(_split_answer_and_check(cell))
    src.cells = cells
    used: set[str] = set()
    for i, cell in enumerate(src.cells):
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type not in ("code", "markdown"):
            continue
        source = cell.source
        solution = BEGIN in source
        checks = [m.group(1) for ln in source.splitlines() if (m := _CHECK_CALL.match(ln))]
        graded = cell.cell_type == "code" and not solution and bool(checks)
        if BEGIN_HIDDEN in source and not graded:
            raise ValueError(f"{name}, cell {i}: a hidden-test region must sit in a cell that calls a checker.")
        if solution and checks:
            raise ValueError(f"{name}, cell {i}: put the checker call after the solution region, in the cell's last lines.")
        locked = not solution and (cell.cell_type == "markdown" or "from course_lib.checks import" in source)
        meta: dict = {"schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
        if solution and cell.cell_type == "code":
            meta |= {"grade": False, "locked": False, "grade_id": _unique(f"answer_{_answer_name(source, f'cell{i}')}", used)}
        elif solution:
            meta |= {
                "grade": True,
                "locked": False,
                "points": MANUAL_POINTS,
                "grade_id": _unique(f"written_{_slug(source, f'cell{i}')}", used),
            }
        elif graded:
            meta |= {"grade": True, "locked": True, "points": POINTS, "grade_id": _unique(checks[0], used)}
        elif locked:
            gid = f"text_{_slug(source, f'cell{i}')}" if cell.cell_type == "markdown" else "imports"
            meta |= {"grade": False, "locked": True, "grade_id": _unique(gid, used)}
        else:
            continue
        cell.metadata["nbgrader"] = dict(sorted(meta.items()))
    return src


def _checksum(cell: nbformat.NotebookNode) -> str:
    """nbgrader's ``utils.compute_checksum`` (0.9.6), so a generated exercise equals nbgrader's release."""
    g = cell.metadata["nbgrader"]
    m = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(g.get("grade", False)), str(g.get("solution", False))):
        m.update(part.encode("utf-8"))
    locked = False if g.get("solution", False) else bool(g.get("grade", False) or g.get("locked", False))
    m.update(str(locked).encode("utf-8"))
    m.update(g["grade_id"].encode("utf-8"))
    if g.get("grade", False):
        m.update(str(float(g["points"])).encode("utf-8"))
    return m.hexdigest()


def make_exercise(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the learner version of a solution notebook (the input is not modified).

    The result equals what ``nbgrader generate_assignment`` releases (with ``CODE_STUB`` as its
    code stub), except that run-time metadata (``execution`` timestamps) is dropped.
    """
    ex = derive_metadata(nb, name)
    for i, cell in enumerate(ex.cells):
        src = cell.get("source", "")
        if cell.cell_type in ("code", "markdown") and any(t in src for t in _MARKERS):
            cell.source = _strip_source(src, markdown=cell.cell_type == "markdown", where=f"{name}, cell {i}")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        g = cell.metadata.get("nbgrader")
        if g is None:
            continue
        # nbgrader's LockCells: answers cannot be deleted; tests and read-only cells cannot be edited either.
        cell.metadata["deletable"] = False
        if not g["solution"] and (g["grade"] or g["locked"]):
            cell.metadata["editable"] = False
        g["checksum"] = _checksum(cell)
        g["cell_type"] = cell.cell_type
    return ex


def _pairs(src_dir: Path, dst_dir: Path) -> list[tuple[Path, Path]]:
    return [(p, dst_dir / p.name) for p in sorted(src_dir.glob("*.ipynb"))]


def write_metadata(src_dir: str | Path = "solutions") -> list[Path]:
    """Write the derived nbgrader metadata into every solution notebook that lacks it; return those changed."""
    changed = []
    for src in sorted(Path(src_dir).glob("*.ipynb")):
        nb = nbformat.read(src, as_version=4)
        want = derive_metadata(nb, src.name)
        if want != nb:
            nbformat.write(want, src)
            changed.append(src)
    return changed


def generate(src_dir: str | Path = "solutions", dst_dir: str | Path = "exercises") -> list[Path]:
    """Write one exercise notebook per solution notebook; return the paths written."""
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src, dst in _pairs(src_dir, dst_dir):
        ex = make_exercise(nbformat.read(src, as_version=4), src.name)
        nbformat.write(ex, dst)
        written.append(dst)
    return written


def out_of_date(src_dir: str | Path = "solutions", dst_dir: str | Path = "exercises") -> list[str]:
    """Names of exercise notebooks that are missing, stale or orphaned, and solutions whose metadata is stale."""
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    problems = []
    for src, dst in _pairs(src_dir, dst_dir):
        nb = nbformat.read(src, as_version=4)
        if derive_metadata(nb, src.name) != nb:
            problems.append(f"{src.parent.name}/{src.name} (nbgrader metadata differs from the derived one)")
        want = make_exercise(nb, src.name)
        if not dst.exists():
            problems.append(f"{dst.name} (missing)")
        elif nbformat.read(dst, as_version=4) != want:
            problems.append(f"{dst.name} (stale)")
    names = {p.name for p in src_dir.glob("*.ipynb")}
    problems += [f"{p.name} (no solution notebook)" for p in sorted(dst_dir.glob("*.ipynb")) if p.name not in names]
    return problems


NBGRADER_CONFIG = f"""\
# nbgrader configuration written by `python -m course_lib.exercises --course` (make release).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "autoencoders-finance"
# The learner stub of course_lib.exercises, so the release equals exercises/ cell for cell.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
# The course's own Python (the environment nbgrader runs in), whatever kernel name a notebook stores.
c.Execute.kernel_name = "python3"
c.Execute.timeout = 600
"""


def make_course(course_dir: str | Path = "classroom", src_dir: str | Path = "solutions") -> list[str]:
    """Lay out an nbgrader course directory: ``nbgrader_config.py`` and ``source/<chapter>/<chapter>.ipynb``.

    Each solution notebook becomes one assignment named after it (``00_getting_started``), with the
    derived nbgrader metadata. Returns the assignment names, in chapter order.
    """
    course_dir = Path(course_dir)
    (course_dir / "source").mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    names = []
    for src in sorted(Path(src_dir).glob("*.ipynb")):
        nb = derive_metadata(nbformat.read(src, as_version=4), src.name)
        (course_dir / "source" / src.stem).mkdir(exist_ok=True)
        nbformat.write(nb, course_dir / "source" / src.stem / src.name)
        names.append(src.stem)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default="solutions")
    parser.add_argument("--dst", default="exercises")
    parser.add_argument("--check", action="store_true", help="only report whether solutions/ and exercises/ are up to date")
    parser.add_argument("--metadata", action="store_true", help="only write the derived nbgrader metadata into solutions/")
    parser.add_argument("--course", metavar="DIR", help="write an nbgrader course directory DIR and print its assignments")
    args = parser.parse_args(argv)
    if args.course:
        print(" ".join(make_course(args.course, args.src)))
        return 0
    if args.check:
        problems = out_of_date(args.src, args.dst)
        for p in problems:
            print(f"out of date: {p}")
        if problems:
            print("run `make exercises` to derive the metadata in solutions/ and regenerate exercises/.")
        return 1 if problems else 0
    for path in write_metadata(args.src):
        print(f"nbgrader metadata written to {path}")
    if args.metadata:
        return 0
    for path in generate(args.src, args.dst):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
