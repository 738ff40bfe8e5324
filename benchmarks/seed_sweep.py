"""Re-run every notebook under many seeds and report, per assert, how close each claim came to failing.

``make seeds`` (``python -m benchmarks.seed_sweep``) executes each notebook once per seed with the
``SEED = ...`` line of its ``parameters`` cell replaced, one kernel per run, several runs in parallel
(one thread each). After every code cell that holds top-level ``assert`` statements it evaluates, in the
same kernel, both sides of every comparison in those asserts (``a < x < b``, ``abs(d) < 3 * se``,
``(t[m] > t[o] + 0.04).all()``), so the report can show, next to the asserted bound, the quantity's
observed min / median / max over the seeds and the worst margin (how far the closest seed stayed from the
bound). A bound that lies far outside everything observed is flagged as loose: an assert that cannot fail
tests nothing.

Results are kept per notebook in ``benchmarks/results/seed_sweep.json`` together with a hash of the
notebook's code cells, so ``tests/test_seed_sweep.py`` can tell when a notebook changed after its sweep;
``benchmarks/results/seed_sweep.md`` is the readable report.

Usage::

    python -m benchmarks.seed_sweep [--seeds 1-20] [--workers 2] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Comparison",
    "code_hash",
    "extract_comparisons",
    "main",
    "parse_seeds",
    "render_report",
    "run_notebook",
    "summarise",
]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JSON_PATH = RESULTS / "seed_sweep.json"
MD_PATH = RESULTS / "seed_sweep.md"
SEED_LINE = re.compile(r"^SEED = \d+", re.M)
_LESS = (ast.Lt, ast.LtE)
_GREATER = (ast.Gt, ast.GtE)
# A bound is "loose" when it lies further beyond the closest observed value than this many times the
# observed range (the course's rule widens the observed range by half its width, so 2 is generous).
LOOSE_FACTOR = 2.0


@dataclass
class Comparison:
    """One ``left op right`` inside a top-level ``assert`` of a notebook cell.

    ``kind`` is ``"upper"`` when the claim is ``left < right`` (margin ``right - left``) and ``"lower"``
    when it is ``left > right`` (margin ``left - right``). ``bound`` holds the constant side when one side
    is a number (then ``quantity`` is the other side's source), else ``None`` and the quantity is the
    difference of the two sides.
    """

    text: str
    left: str
    right: str
    kind: str
    quantity: str
    bound: float | None
    bound_side: str | None = None
    extras: dict = field(default_factory=dict)


def _constant(node: ast.AST) -> float | None:
    """The value of a numeric literal expression (``0.02``, ``-0.06``, ``3 * 0.01``), else ``None``."""
    try:
        src = ast.unparse(node)
        if not re.fullmatch(r"[\d\.\se\+\-\*/\(\)_]+", src):
            return None
        value = eval(compile(ast.Expression(node), "<bound>", "eval"), {"__builtins__": {}}, {})  # noqa: S307
    except Exception:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _compares(node: ast.AST) -> list[ast.Compare]:
    """Comparisons an assert test is made of: ``a and b``, ``(x > y).all()``, ``all(x > y)``, ``x < y``."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for v in node.values for c in _compares(v)]
    if isinstance(node, ast.Compare):
        return [node]
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in ("all",) and not node.args:
            return _compares(f.value)
        if isinstance(f, ast.Name) and f.id == "all" and len(node.args) == 1 and isinstance(node.args[0], ast.Compare):
            return [node.args[0]]
    return []


def extract_comparisons(source: str) -> list[Comparison]:
    """Comparisons in the top-level ``assert`` statements of a cell's source.

    Asserts inside loops or functions, and comparisons with ``==``, ``in`` or ``is``, are not summarised
    (the cell's pass/fail still counts). IPython magics make a cell unparsable: then nothing is returned.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out: list[Comparison] = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assert):
            continue
        for cmp in _compares(stmt.test):
            operands = [cmp.left, *cmp.comparators]
            for op, a, b in zip(cmp.ops, operands[:-1], operands[1:]):
                if isinstance(op, _LESS):
                    kind = "upper"
                elif isinstance(op, _GREATER):
                    kind = "lower"
                else:
                    continue
                left, right = ast.unparse(a), ast.unparse(b)
                ca, cb = _constant(a), _constant(b)
                if ca is not None and cb is not None:
                    continue
                sym = ast.unparse(ast.Compare(left=ast.Name("L"), ops=[op], comparators=[ast.Name("R")]))[2:-2]
                text = f"{left} {sym} {right}"
                if cb is not None:
                    out.append(Comparison(text, left, right, kind, left, cb, "right"))
                elif ca is not None:  # ``0.2 < q`` is read as ``q > 0.2``: kind is from the quantity's side
                    flipped = "lower" if kind == "upper" else "upper"
                    out.append(Comparison(text, right, left, flipped, right, ca, "right"))
                else:
                    q = f"{left} - ({right})"
                    out.append(Comparison(text, left, right, kind, q, None, None))
    return out


_PROBE = """
def __sweep_probe(pairs):
    import json as _json
    import numpy as _np
    out = []
    for left, right in pairs:
        row = {}
        for key, expr in (("left", left), ("right", right)):
            try:
                value = _np.asarray(eval(expr, globals()), dtype=float)
                row[key] = value.ravel().tolist() if value.size <= 10000 else None
            except Exception as exc:  # the quantity cannot be summarised; the cell's result still counts
                row[key] = None
                row["error"] = type(exc).__name__
        out.append(row)
    print("__SWEEP__" + _json.dumps(out))
__sweep_probe(__PAIRS__)
del __sweep_probe
"""


def _margin(kind: str, left: list[float], right: list[float]) -> float | None:
    """Worst (smallest) margin of ``left op right`` over broadcast elements; negative means it failed."""
    import numpy as np

    if left is None or right is None:
        return None
    a, b = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    try:
        m = (b - a) if kind == "upper" else (a - b)
    except ValueError:
        return None
    if m.size == 0 or not np.isfinite(m).any():
        return None
    return float(np.nanmin(m))


def code_hash(nb) -> str:
    """Hash of a notebook's code cells (sources only), so outputs can be refreshed without a new sweep."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode())
            h.update(b"\0")
    return h.hexdigest()[:16]


def run_notebook(path: str, seed: int, timeout: int = 600) -> dict:
    """Execute ``path`` with ``SEED = seed``; return per-cell pass/fail and the probed comparison values."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.setdefault("COURSE_NUM_THREADS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source, n = SEED_LINE.subn(f"SEED = {seed}", first.source)
    if n != 1:
        return {"seed": seed, "error": "the first code cell has no line 'SEED = <int>'", "cells": {}, "seconds": 0.0}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    cells: dict[str, dict] = {}
    t0 = time.perf_counter()
    with client.setup_kernel():
        for idx, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, idx)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            has_assert = re.search(r"^\s*assert\b", cell.source, re.M) is not None
            if not (has_assert or errors):
                continue
            rec: dict = {"passed": not errors}
            if errors:
                e = errors[0]
                rec["error"] = f"{e.ename}: {e.evalue}"[:300]
                line = next((ln for ln in e.traceback[::-1] if "assert" in ln), "")
                rec["failed_line"] = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()[:300]
            comps = extract_comparisons(cell.source)
            if comps:
                probe = nbformat.v4.new_code_cell(_PROBE.replace("__PAIRS__", repr([(c.left, c.right) for c in comps])))
                client.execute_cell(probe, idx)
                text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
                m = re.search(r"__SWEEP__(.*)", text)
                values = json.loads(m.group(1)) if m else [{} for _ in comps]
                rec["comparisons"] = [
                    {"left": v.get("left"), "right": v.get("right"), "margin": _margin(c.kind, v.get("left"), v.get("right"))}
                    for c, v in zip(comps, values)
                ]
            cells[str(idx)] = rec
    return {"seed": seed, "cells": cells, "seconds": round(time.perf_counter() - t0, 1)}


def parse_seeds(text: str) -> list[int]:
    """``"1-20"`` -> 1..20; ``"1,5,9"`` -> [1, 5, 9]; ``"1-3,7"`` -> [1, 2, 3, 7]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise ValueError(f"seed range {part!r} runs backwards; write it as {hi}-{lo}.")
            seeds.extend(range(lo, hi + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise ValueError(f"cannot read seeds {text!r}: use a range like 1-20 or a list like 1,2,3.")
    if not seeds:
        raise ValueError("no seeds given: use a range like 1-20 or a list like 1,2,3.")
    return sorted(set(seeds))


def summarise(path: Path, runs: list[dict]) -> dict:
    """Per-assert-cell pass counts and per-comparison statistics for one notebook's runs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = []
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not re.search(r"^\s*assert\b", cell.source, re.M):
            continue
        key = str(idx)
        ran = [r for r in runs if key in r["cells"]]
        passed = sum(r["cells"][key]["passed"] for r in ran)
        comps = []
        for j, c in enumerate(extract_comparisons(cell.source)):
            margins = [
                r["cells"][key]["comparisons"][j]["margin"]
                for r in ran
                if r["cells"][key].get("comparisons") and r["cells"][key]["comparisons"][j]["margin"] is not None
            ]
            # With a constant bound the quantity is read off the margin: for an array quantity this is the
            # element closest to the bound in that run.
            qvals = [] if c.bound is None else [c.bound - m if c.kind == "upper" else c.bound + m for m in margins]
            row = {"text": c.text, "quantity": c.quantity, "bound": c.bound, "kind": c.kind, "n": len(margins)}
            if qvals:
                row.update(q_min=min(qvals), q_median=statistics.median(qvals), q_max=max(qvals))
            if margins:
                row["worst_margin"] = min(margins)
                spread = (max(qvals) - min(qvals)) if len(qvals) > 1 else (max(margins) - min(margins))
                row["spread"] = spread
                row["loose"] = bool(spread > 0 and min(margins) > LOOSE_FACTOR * spread + 1e-12)
            comps.append(row)
        failures = [
            {"seed": r["seed"], "error": r["cells"][key].get("error", ""), "line": r["cells"][key].get("failed_line", "")}
            for r in ran
            if not r["cells"][key]["passed"]
        ]
        first_line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip().startswith("assert")), "")
        cells.append(
            {
                "cell": idx,
                "first_assert": first_line,
                "ran": len(ran),
                "passed": passed,
                "comparisons": comps,
                "failures": failures,
            }
        )
    other = [
        {"seed": r["seed"], "cell": k, "error": v.get("error", "")}
        for r in runs
        for k, v in r["cells"].items()
        if not v["passed"] and k not in {str(c["cell"]) for c in cells}
    ]
    other += [{"seed": r["seed"], "cell": None, "error": r["error"]} for r in runs if r.get("error")]
    seconds = [r["seconds"] for r in runs]
    ok = [r for r in runs if not r.get("error") and all(v["passed"] for v in r["cells"].values())]
    return {
        "notebook": str(path.relative_to(ROOT)),
        "code_hash": code_hash(nb),
        "seeds": sorted(r["seed"] for r in runs),
        "seeds_passed": len(ok),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "cells": cells,
        "other_errors": other,
    }


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def render_report(data: dict) -> str:
    """The markdown report for every notebook in ``data`` (the JSON kept in benchmarks/results)."""
    lines = [
        "# Seed sweep: every asserted claim under seeds the notebooks were not written with",
        "",
        "Made by `make seeds` (`python -m benchmarks.seed_sweep`); do not edit by hand. Each notebook is",
        "re-executed once per seed with `SEED` replaced in its `parameters` cell. For every comparison in a",
        "top-level `assert`, the table gives the asserted bound, the observed min / median / max of the",
        "quantity over the seeds, and the worst margin (distance of the closest seed from the bound; negative",
        "means a seed failed). *loose* marks a bound further from every observed value than",
        f"{LOOSE_FACTOR:g} times the observed spread: review whether that assert can fail at all.",
        "",
        "| notebook | seeds passed | median run (s) | assert cells | tightest margin (in spreads) |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(data["notebooks"]):
        nb = data["notebooks"][name]
        tight = [
            (c["worst_margin"] / c["spread"]) if c.get("spread") else None
            for cell in nb["cells"]
            for c in cell["comparisons"]
            if c.get("worst_margin") is not None
        ]
        tight = [t for t in tight if t is not None]
        lines.append(
            f"| `{name}` | {nb['seeds_passed']}/{len(nb['seeds'])} | {_fmt(nb['median_seconds'])} | {len(nb['cells'])} | "
            f"{_fmt(min(tight)) if tight else '-'} |"
        )
    meta = data.get("meta", {})
    lines += [
        "",
        f"Seeds: {meta.get('seeds', '?')}; workers: {meta.get('workers', '?')}; last run: {meta.get('when', '?')}; "
        f"wall time of the last run: {meta.get('wall_seconds', '?')} s ({meta.get('machine', '?')}).",
        "",
    ]
    for name in sorted(data["notebooks"]):
        nb = data["notebooks"][name]
        lines += [
            f"## `{name}`",
            "",
            f"Code hash `{nb['code_hash']}`; seeds {nb['seeds'][0]}-{nb['seeds'][-1]}"
            f" ({len(nb['seeds'])}); all asserts passed on {nb['seeds_passed']} of them.",
            "",
        ]
        lines += [
            "| cell | passed | comparison | bound | min | median | max | worst margin | note |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for cell in nb["cells"]:
            comps = cell["comparisons"] or [{"text": cell["first_assert"], "bound": None}]
            for j, c in enumerate(comps):
                head = (f"{cell['cell']}", f"{cell['passed']}/{cell['ran']}") if j == 0 else ("", "")
                note = "loose" if c.get("loose") else ""
                text = c["text"].replace("|", "\\|")
                if len(text) > 90:
                    text = text[:87] + "..."
                lines.append(
                    f"| {head[0]} | {head[1]} | `{text}` | {_fmt(c.get('bound'))} | {_fmt(c.get('q_min'))} | "
                    f"{_fmt(c.get('q_median'))} | {_fmt(c.get('q_max'))} | {_fmt(c.get('worst_margin'))} | {note} |"
                )
        fails = [f for cell in nb["cells"] for f in cell["failures"]] + nb["other_errors"]
        if fails:
            lines += ["", "Failures:", ""]
            lines += [f"- seed {f['seed']}: {f.get('line') or f['error']}" for f in fails]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to sweep (default: notebooks/ and solutions/)")
    parser.add_argument("--seeds", default=os.environ.get("SEEDS", "1-20"), help="e.g. 1-20 or 1,2,3 (default 1-20)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--no-write", action="store_true", help="print the report, do not update benchmarks/results")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(
        [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")]
    )
    jobs = [(str(p), s) for p in paths for s in seeds]
    print(f"seed sweep: {len(paths)} notebook(s) x {len(seeds)} seed(s) = {len(jobs)} runs on {args.workers} worker(s)")
    t0 = time.perf_counter()
    runs: dict[str, list[dict]] = {str(p): [] for p in paths}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(run_notebook, p, s, args.timeout): (p, s) for p, s in jobs}
        for done, fut in enumerate(as_completed(futures), 1):
            p, s = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # a kernel that died is a failed run, not a crashed sweep
                r = {"seed": s, "error": f"{type(exc).__name__}: {exc}"[:300], "cells": {}, "seconds": 0.0}
            runs[p].append(r)
            bad = r.get("error") or [k for k, v in r["cells"].items() if not v["passed"]]
            status = "ok" if not bad else f"FAILED ({bad})"
            print(f"[{done}/{len(jobs)}] {Path(p).relative_to(ROOT)} seed {s}: {status} in {r['seconds']} s", flush=True)
    wall = round(time.perf_counter() - t0, 1)
    data = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {"notebooks": {}}
    for p in paths:
        s = summarise(Path(p), runs[str(p)])
        data["notebooks"][s["notebook"]] = s
    data["notebooks"] = {k: v for k, v in data["notebooks"].items() if (ROOT / k).exists()}
    data["meta"] = {
        "seeds": args.seeds,
        "workers": args.workers,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wall_seconds": wall,
        "machine": f"{os.cpu_count()} cores, torch threads {os.environ.get('COURSE_NUM_THREADS', '1')}",
        "notebooks_in_last_run": [str(Path(p).relative_to(ROOT)) for p in paths],
    }
    report = render_report(data)
    if args.no_write:
        print(report)
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        JSON_PATH.write_text(json.dumps(data, indent=1) + "\n")
        MD_PATH.write_text(report)
        print(f"wrote {MD_PATH.relative_to(ROOT)} and {JSON_PATH.relative_to(ROOT)}")
    n_fail = sum(
        len(v) - sum(1 for r in v if not r.get("error") and all(c["passed"] for c in r["cells"].values())) for v in runs.values()
    )
    print(f"{len(jobs) - n_fail} passed, {n_fail} failed (seed sweep, {wall} s)")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
