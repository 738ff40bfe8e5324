"""Generate learner notebooks (``exercises/``) from the answer notebooks (``solutions/``).

``solutions/`` is the single source. In each code cell, every region::

    ### BEGIN SOLUTION
    # HINT: use torch.randn_like
    ...answer...
    ### END SOLUTION

becomes, with the indentation kept::

    # HINT: use torch.randn_like
    # YOUR CODE HERE
    raise NotImplementedError("Exercise: replace this line with your code.")

``# HINT:`` lines inside a region are kept for the learner. Regions between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are removed (grader
only). In markdown cells a solution region becomes ``YOUR ANSWER HERE``.
Outputs and execution counts are cleared. Nested or unclosed regions are errors.

Command line (what ``make exercises`` runs)::

    python -m course_lib.exercises            # write exercises/ from solutions/
    python -m course_lib.exercises --check    # exit 1 if exercises/ is out of date
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'
_HINT = re.compile(r"^\s*# HINT:")


def _strip_source(source: str, *, markdown: bool, where: str) -> str:
    out: list[str] = []
    mode: str | None = None
    indent = ""
    hints: list[str] = []
    for lineno, line in enumerate(source.splitlines(), 1):
        tag = line.strip()
        if tag in (BEGIN, BEGIN_HIDDEN):
            if mode is not None:
                raise ValueError(f"{where}, line {lineno}: '{tag}' inside an open '{mode}' region (regions cannot nest).")
            mode, indent, hints = tag, line[: len(line) - len(line.lstrip())], []
        elif tag in (END, END_HIDDEN):
            expected = BEGIN if tag == END else BEGIN_HIDDEN
            if mode != expected:
                raise ValueError(f"{where}, line {lineno}: '{tag}' without a matching '{expected}'.")
            if mode == BEGIN:
                if markdown:
                    out.append("YOUR ANSWER HERE")
                else:
                    out.extend(hints)
                    out.append(f"{indent}# YOUR CODE HERE")
                    out.append(f"{indent}{STUB}")
            mode = None
        elif mode is None:
            out.append(line)
        elif mode == BEGIN and _HINT.match(line):
            hints.append(line)
    if mode is not None:
        raise ValueError(f"{where}: '{mode}' is never closed.")
    return "\n".join(out)


def make_exercise(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the learner version of a solution notebook (the input is not modified)."""
    ex = copy.deepcopy(nb)
    for i, cell in enumerate(ex.cells):
        src = cell.get("source", "")
        if cell.cell_type in ("code", "markdown") and any(t in src for t in (BEGIN, END, BEGIN_HIDDEN, END_HIDDEN)):
            cell.source = _strip_source(src, markdown=cell.cell_type == "markdown", where=f"{name}, cell {i}")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return ex


def _pairs(src_dir: Path, dst_dir: Path) -> list[tuple[Path, Path]]:
    return [(p, dst_dir / p.name) for p in sorted(src_dir.glob("*.ipynb"))]


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
    """Names of exercise notebooks that are missing, stale or orphaned."""
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    problems = []
    for src, dst in _pairs(src_dir, dst_dir):
        want = make_exercise(nbformat.read(src, as_version=4), src.name)
        if not dst.exists():
            problems.append(f"{dst.name} (missing)")
        elif nbformat.read(dst, as_version=4) != want:
            problems.append(f"{dst.name} (stale)")
    names = {p.name for p in src_dir.glob("*.ipynb")}
    problems += [f"{p.name} (no solution notebook)" for p in sorted(dst_dir.glob("*.ipynb")) if p.name not in names]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default="solutions")
    parser.add_argument("--dst", default="exercises")
    parser.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    args = parser.parse_args(argv)
    if args.check:
        problems = out_of_date(args.src, args.dst)
        for p in problems:
            print(f"out of date: {p}")
        if problems:
            print("run `make exercises` to regenerate exercises/ from solutions/.")
        return 1 if problems else 0
    for path in generate(args.src, args.dst):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
