"""Chapters read as a book: one section order, a reference list, and prose that states measured numbers.

Checks for every chapter notebook in ``notebooks/`` (a new chapter is covered the day it is added):

1. the level-2 headings contain, in this order, an objectives, a (finance) motivation, a notation, a pitfalls, a
   takeaways, a references and an exercises section, and the notation section holds a symbol table;
2. a number written in a markdown cell that equals a bound of an ``assert`` in the next code cell must also appear in
   some printed output of the stored notebook. Otherwise the prose quotes the test's tolerance ("below 0.7")
   instead of what the run measured ("0.49"): state the measured number and keep the tolerance in the assert.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb"))
ORDER = ("objectives", "motivation", "notation", "pitfalls", "takeaways", "references", "exercises")
# a decimal number (0.7, 1.5, -0.02) or a percentage (90 %, 25%); plain integers are too often indices or counts
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")
PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")


def _load(rel: str) -> dict:
    return json.loads((ROOT / rel).read_text())


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def headings(nb: dict) -> list[str]:
    """Level-2 headings of the markdown cells, in order (the text after ``## ``)."""
    return [
        line[3:].strip()
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in _src(c).splitlines()
        if line.startswith("## ")
    ]


def section_positions(heads: list[str]) -> dict[str, int]:
    """Index of the first level-2 heading that names each section of ``ORDER`` (missing ones are left out)."""
    pos: dict[str, int] = {}
    for name in ORDER:
        for i, h in enumerate(heads):
            if re.search(rf"\b{name}\b", h, re.I):
                pos[name] = i
                break
    return pos


def _strip_math_free(text: str) -> str:
    # drop code spans and URLs/DOIs, which hold version numbers and identifiers, not claims
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"(https?://|doi:|10\.\d{4,}/)\S*", " ", text)


def prose_numbers(md: str) -> set[float]:
    """Decimal numbers and percentages (as fractions and as written) in a markdown text."""
    text = _strip_math_free(md)
    out = {round(float(x), 6) for x in DECIMAL.findall(text)}
    for p in PERCENT.findall(text):
        out.add(round(float(p) / 100, 6))
    return out


def assert_bounds(code: str) -> set[float]:
    """Decimal literals on the ``assert`` lines of a code cell (comments removed)."""
    out: set[float] = set()
    for line in code.splitlines():
        line = line.split("#", 1)[0]
        if line.lstrip().startswith("assert"):
            out |= {round(float(x), 6) for x in DECIMAL.findall(line)}
    return out


def printed_numbers(nb: dict) -> set[float]:
    """Every decimal number and percentage in the notebook's stored text outputs (streams, tables, results)."""
    texts = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            if o["output_type"] == "stream":
                texts.append("".join(o["text"]))
            for key in ("text/plain", "text/html", "text/markdown"):
                if key in o.get("data", {}):
                    texts.append("".join(o["data"][key]))
    text = "\n".join(texts)
    out = {round(float(x), 6) for x in DECIMAL.findall(text)}
    out |= {round(float(p) / 100, 6) for p in PERCENT.findall(text)}
    return out


def quoted_bounds(nb: dict) -> list[tuple[int, float]]:
    """(markdown cell index, number) for each prose number that equals a bound of the next code cell's asserts
    but is printed nowhere in the notebook."""
    printed = printed_numbers(nb)
    cells = nb["cells"]
    flags = []
    for i, c in enumerate(cells):
        if c["cell_type"] != "markdown":
            continue
        nxt = next((d for d in cells[i + 1 :] if d["cell_type"] == "code"), None)
        if nxt is None:
            continue
        bounds = assert_bounds(_src(nxt))
        for x in sorted(prose_numbers(_src(c)) & bounds):
            if x not in printed and round(x * 100, 6) not in printed:
                flags.append((i, x))
    return flags


@pytest.mark.parametrize("rel", CHAPTERS)
def test_sections_in_book_order(rel):
    heads = headings(_load(rel))
    pos = section_positions(heads)
    missing = [s for s in ORDER if s not in pos]
    assert not missing, f"{rel}: no '## ...' heading for {missing}; headings are {heads}"
    got = [pos[s] for s in ORDER]
    assert got == sorted(got), f"{rel}: sections must come in the order {ORDER}; headings are {heads}"


@pytest.mark.parametrize("rel", CHAPTERS)
def test_notation_table_near_the_top(rel):
    nb = _load(rel)
    md = "\n".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    m = re.search(r"^## Notation\b(.*?)(?=^## |\Z)", md, re.M | re.S)
    assert m, f"{rel}: a '## Notation' section"
    rows = [ln for ln in m.group(1).splitlines() if ln.lstrip().startswith("|") and "---" not in ln]
    assert len(rows) >= 4, f"{rel}: the notation section is a table of symbols and meanings (a header and 3+ rows)"
    heads = headings(nb)
    first_numbered = next((i for i, h in enumerate(heads) if re.match(r"\d", h)), len(heads))
    assert section_positions(heads)["notation"] < first_numbered, f"{rel}: the notation table comes before section 1"


@pytest.mark.parametrize("rel", CHAPTERS)
def test_references_section_lists_sources(rel):
    nb = _load(rel)
    md = "\n".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    m = re.search(r"^## References\b(.*?)(?=^## |\Z)", md, re.M | re.S)
    assert m, f"{rel}: a '## References' section"
    entries = [ln for ln in m.group(1).splitlines() if ln.lstrip().startswith("- ")]
    assert entries, f"{rel}: the references section lists its sources as '- ' items"
    for e in entries:
        # a published source gives its year; an unpublished one says so
        assert re.search(r"\b(19|20)\d{2}\b|unpublished", e), f"{rel}: a reference without a year: {e}"


@pytest.mark.parametrize("rel", CHAPTERS)
def test_prose_states_measured_numbers_not_assert_bounds(rel):
    flags = quoted_bounds(_load(rel))
    assert not flags, (
        f"{rel}: markdown numbers that equal an assert bound of the next code cell but are printed nowhere "
        f"(cell index, number): {flags}. State the measured number (print it) and keep the tolerance in the assert."
    )


def test_the_bound_check_can_fail():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["The volatility is below 0.7 and the share above 90 %."]},
            {"cell_type": "code", "source": ["assert vol < 0.7 and share > 0.9"], "outputs": []},
        ]
    }
    assert quoted_bounds(nb) == [(0, 0.7), (0, 0.9)]
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "text": ["vol 0.7 share 90 %"]}]
    assert quoted_bounds(nb) == []


def test_the_order_check_can_fail():
    pos = section_positions(["Objectives", "Motivation", "Notation", "Pitfalls", "References", "Takeaways", "Exercises"])
    assert [pos[s] for s in ORDER] != sorted(pos[s] for s in ORDER)


@pytest.mark.parametrize("rel", CHAPTERS)
def test_appendix_last_and_collapsed(rel):
    """Maintainer material (run times, seed audits) sits in a final appendix whose code cells are collapsed."""
    nb = _load(rel)
    heads = headings(nb)
    appendix = [i for i, h in enumerate(heads) if h.lower().startswith("appendix")]
    assert appendix == [len(heads) - 1], f"{rel}: one '## Appendix: ...' section, the last one; headings are {heads}"
    cells = nb["cells"]
    start = max(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _src(c).lstrip().startswith("## Appendix"))
    code = [c for c in cells[start + 1 :] if c["cell_type"] == "code"]
    for c in code:
        meta = c.get("metadata", {})
        assert "hide-cell" in meta.get("tags", []), f"{rel}: tag the appendix's code cells 'hide-cell' (collapsed on the site)"
        assert meta.get("jupyter", {}).get("source_hidden"), f"{rel}: collapse the appendix's code in JupyterLab"
