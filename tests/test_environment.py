"""Set-up files agree with each other: pins, environment.yml, README and CI."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    d = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = d["project"]["dependencies"] + [dep for extra in d["project"]["optional-dependencies"].values() for dep in extra]
    pins = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([\w.]+)", dep)
        assert m, f"pyproject.toml: {dep!r} is not pinned exactly (name==version)"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_lists_the_same_pins_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = dict(p.lower().split("==") for p in pip_section if "==" in p)
    assert env_pins == _pyproject_pins()
    assert "python=3.11" in env["dependencies"]


def test_lock_file_agrees_with_the_direct_pins():
    lock = dict(
        line.strip().lower().split("==")
        for line in (ROOT / "requirements-lock.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name, version in _pyproject_pins().items():
        assert lock.get(name.replace("_", "-"), lock.get(name)) == version, f"{name} differs between pyproject.toml and the lock"
    assert lock["torch"] == "2.13.0", "a local tag like +cpu would stop CUDA users from installing"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands[:2] == ["make lab", "make test"], "the README opens with the two commands"
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert ci[-1] == "make test"


def test_makefile_runs_nbval_in_lax_mode_with_the_current_env_and_a_timeout():
    mk = (ROOT / "Makefile").read_text()
    for flag in ("--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout"):
        assert flag in mk
    assert re.search(r"^test: .*\n\t.*pytest.*tests \$\(NOTEBOOKS\)", mk, re.M)
    assert "notebooks/*.ipynb" in mk and "solutions/*.ipynb" in mk


def test_make_test_enforces_style_with_ruff():
    mk = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint\b", mk, re.M), "make test must run the lint target first"
    lint = re.search(r"^lint: .*\n((?:\t.*\n)+)", mk, re.M).group(1)
    assert "ruff check course_lib tests benchmarks" in lint
    assert "ruff format --check course_lib tests benchmarks" in lint
