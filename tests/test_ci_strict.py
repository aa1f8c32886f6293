"""The CI rule of tests/conftest.py, checked by running pytest on a tiny generated suite.

In strict mode (``CI`` or ``EMBEDFORGE_DATA_DIR`` set) a data test that would skip and an
``importorskip`` that finds nothing fail; elsewhere they skip; every run prints how many data
tests ran and passed.  Each case runs pytest in a subprocess with the real conftest copied in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).parent / "conftest.py"

SUITE = """
import pytest

@pytest.mark.data
def test_data_present(data_file):
    assert data_file("present.txt").read_text() == "here"

@pytest.mark.data
def test_data_missing(data_file):
    data_file("absent/file.txt")

def test_dev_dependency_missing():
    pytest.importorskip("embedforge_no_such_dev_dependency")

def test_plain():
    assert 1 + 1 == 2

@pytest.mark.data
@pytest.mark.xfail(reason="a known gap", strict=True)
def test_data_expected_failure(data_dir):
    assert False
"""

MODULE_LEVEL = """
import pytest

pytest.importorskip("embedforge_no_such_dev_dependency")

def test_never_collected():
    pass
"""

INI = """[pytest]
markers =
    data: needs EMBEDFORGE_DATA_DIR
"""


def run_suite(tmp_path: Path, tests: str = SUITE, **env: str) -> subprocess.CompletedProcess:
    suite = tmp_path / "suite"
    suite.mkdir(parents=True)
    shutil.copy(CONFTEST, suite / "conftest.py")
    (suite / "pytest.ini").write_text(INI, encoding="utf-8")
    (suite / "test_generated.py").write_text(tests, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "present.txt").write_text("here", encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if k not in ("CI", "EMBEDFORGE_DATA_DIR")}
    child_env.update({k: v.replace("{data}", str(data)) for k, v in env.items()})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(suite)],
        cwd=suite,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_ci_or_data_dir_missing_things_skip(tmp_path):
    result = run_suite(tmp_path)
    out = result.stdout
    assert result.returncode == 0, out
    assert "1 passed, 4 skipped" in out, out
    assert "data tests: 0 ran, 0 passed, 0 failed, 3 skipped" in out, out
    assert "strict mode off" in out


def test_with_the_data_dir_set_skips_become_failures(tmp_path):
    result = run_suite(tmp_path, EMBEDFORGE_DATA_DIR="{data}")
    out = result.stdout
    assert result.returncode == 1, out
    assert "2 failed, 2 passed, 1 xfailed in" in out, out
    assert "FAILED test_generated.py::test_data_missing" in out
    assert "does not contain absent/file.txt" in out
    assert "FAILED test_generated.py::test_dev_dependency_missing" in out
    assert "could not import 'embedforge_no_such_dev_dependency'" in out
    assert "data tests: 3 ran, 1 passed, 1 failed, 1 xfailed, 0 skipped" in out, out
    assert "strict mode on" in out


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_without_data_every_data_test_fails_with_the_reason(tmp_path, ci):
    result = run_suite(tmp_path, CI=ci)
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 failed, 1 passed, 1 xfailed, 2 errors in" in out, out  # fixture set-up fails: errors
    assert "EMBEDFORGE_DATA_DIR is not set" in out
    assert "data tests: 3 ran, 0 passed, 2 failed, 1 xfailed, 0 skipped" in out, out


def test_a_module_level_importorskip_stops_the_run_in_strict_mode(tmp_path):
    assert run_suite(tmp_path / "lenient", MODULE_LEVEL).returncode == 5  # all skipped
    result = run_suite(tmp_path / "strict", MODULE_LEVEL, CI="true")
    out = result.stdout
    assert result.returncode == 2, out  # a collection error interrupts the session
    assert "ERROR test_generated.py" in out, out
    assert "could not import 'embedforge_no_such_dev_dependency'" in out


def test_ci_false_is_not_ci(tmp_path):
    result = run_suite(tmp_path, CI="false")
    assert result.returncode == 0, result.stdout
    assert "strict mode off" in result.stdout
