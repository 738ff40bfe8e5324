"""Every exercise notebook tells the learner where help is: ``hint`` is imported and the introduction says how to call it.

The checkers' failure messages end with "Still stuck? hint('name', level=2)"; a notebook that does not import
``hint`` turns that advice into a NameError.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_hint_is_imported_and_introduced(name):
    nb = json.loads((ROOT / "exercises" / name).read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    first_md = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    imports = "\n".join(code[:3])
    assert "from course_lib.checks import hint" in imports, f"exercises/{name}: import hint in the imports cell"
    assert 'hint("' in first_md, f"exercises/{name}: the introduction says how to call hint(...)"
