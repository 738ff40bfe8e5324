"""Normalise the metadata of stored notebooks so that diffs show content, not noise (used by ``make outputs``).

Three kinds of noise are removed or fixed, and nothing else is touched (sources, outputs and execution
counts stay as they are):

- **Run timestamps.** Executing a notebook stores ``metadata.execution`` (``iopub.execute_input`` and
  friends) in every code cell, so each refresh rewrites every cell. They are deleted.
- **The kernelspec.** JupyterLab writes ``display_name: "Python 3 (ipykernel)"`` for the ``python3``
  kernel; a notebook stored with anything else turns "modified" as soon as a learner opens it, and the
  autosave leaves a tracked file changed. The kernelspec is set to exactly what JupyterLab writes.
- **Stored progress bars.** A ``tqdm`` widget stored in a notebook shows only its text fallback outside a
  live kernel (``0%| | 0/30``, frozen at the start), above a finished training curve. Widget outputs and
  the notebook's widget state are deleted.

Command line::

    python -m course_lib._notebooks notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb
    python -m course_lib._notebooks --check notebooks/*.ipynb   # exit 1 and list files that would change
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["KERNELSPEC", "WIDGET_MIME", "normalise", "normalise_file", "main"]

#: What JupyterLab stores for the ``python3`` kernel (ipykernel's own kernel.json).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: The output type of a live widget such as a ``tqdm.auto`` progress bar.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def normalise(nb: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a notebook (as parsed JSON) without timestamps and widgets, with the kernelspec fixed.

    Parameters
    ----------
    nb : dict
        A notebook in nbformat 4, as ``json.load`` returns it.

    Returns
    -------
    dict
        The normalised copy; ``nb`` itself is not changed.

    Raises
    ------
    ValueError
        If ``nb`` is not an nbformat-4 notebook (no ``cells`` list or another ``nbformat``).
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise ValueError("nb must be an nbformat-4 notebook parsed from JSON (a dict with a 'cells' list and nbformat 4).")
    out = copy.deepcopy(nb)
    meta = out.setdefault("metadata", {})
    meta["kernelspec"] = dict(KERNELSPEC)
    meta.pop("widgets", None)
    for cell in out["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", []) if WIDGET_MIME not in o.get("data", {})]
    return out


def _dumps(nb: dict[str, Any]) -> str:
    # Exactly how nbformat writes a notebook, so an already clean file is left byte for byte unchanged.
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def normalise_file(path: str | Path, *, check: bool = False) -> bool:
    """Normalise one ``.ipynb`` file in place; return whether it changed (or, with ``check``, would change).

    Parameters
    ----------
    path : str or Path
        The notebook file.
    check : bool, default False
        Only report; do not write.

    Raises
    ------
    ValueError
        If the file is not a notebook (see :func:`normalise`) or not valid JSON.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"path {path} is not valid notebook JSON ({err}); pass .ipynb files only.") from err
    new = _dumps(normalise(nb))
    changed = new != text
    if changed and not check:
        path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m course_lib._notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebook files")
    parser.add_argument("--check", action="store_true", help="only list the files that would change; exit 1 if any")
    args = parser.parse_args(argv)
    changed = [p for p in args.paths if normalise_file(p, check=args.check)]
    for p in changed:
        print(f"{'would normalise' if args.check else 'normalised'} {p}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
