"""The command line: exit statuses, where messages go, and what is (not) written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import connexc

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed.cnx").read_text()
BAD = "input x\noutput y\nx -> z\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    pythonpath = str(Path(connexc.__file__).resolve().parent.parent)
    return subprocess.run(
        [sys.executable, "-m", "connexc", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "", "PYTHONPATH": pythonpath},
    )


def test_compiles_to_the_default_output_path(tmp_path: Path) -> None:
    (tmp_path / "net.cnx").write_text(SEED)
    result = run("net.cnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "net.py").read_text() == connexc.compile_source(
        SEED, filename="net.cnx"
    )
    assert result.stdout == ""


def test_verbose_prints_stage_timings_then_one_summary_line(tmp_path: Path) -> None:
    (tmp_path / "net.cnx").write_text(SEED)
    result = run("net.cnx", "-o", "out.py", "-v", cwd=tmp_path)
    assert result.returncode == 0
    *details, line = result.stderr.splitlines()
    assert line.startswith(
        "net.cnx -> out.py: 12 neurons, 14 edges, 6 levels, 0 warnings"
    )
    stages = [
        d.split()[1] for d in details if re.fullmatch(r"net.cnx: \w+ [0-9.]+ ms", d)
    ]
    assert stages[0] == "parse" and {"check", "levels", "render"} <= set(stages)


def test_error_exits_1_with_the_rendered_diagnostic_and_no_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.cnx").write_text(BAD)
    result = run("bad.cnx", "-o", "bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "bad.cnx:3:6: error: neuron 'z' is used but never declared\n"
        "    3 | x -> z\n"
        "      |      ^\n"
        "  hint: declare it in an input, hidden or output statement\n"
    )
    assert not (tmp_path / "bad.py").exists()


def test_failed_compile_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    (tmp_path / "bad.cnx").write_text(BAD)
    (tmp_path / "bad.py").write_text("precious\n")
    assert run("bad.cnx", cwd=tmp_path).returncode == 1
    assert (tmp_path / "bad.py").read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cnx", "bad.py"]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.cnx").write_text(BAD)
    result = run("bad.cnx", "--debug", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = run("nowhere.cnx", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "nowhere.cnx:1:1: error: cannot read 'nowhere.cnx': No such file or directory"
    )
    assert "Traceback" not in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run(cwd=tmp_path).returncode == 2
    assert run("net.cnx", "--no-such-flag", cwd=tmp_path).returncode == 2


def test_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    (tmp_path / "net.cnx").write_text(SEED)
    result = run("net.cnx", "-o", "net.cnx", cwd=tmp_path)
    assert result.returncode == 2
    assert "refusing to overwrite the input file" in result.stderr
    assert (tmp_path / "net.cnx").read_text() == SEED


def test_check_reports_every_file_and_exits_1_if_any_fails(tmp_path: Path) -> None:
    (tmp_path / "good.cnx").write_text(SEED)
    (tmp_path / "bad.cnx").write_text(BAD)
    result = run("check", "good.cnx", "bad.cnx", "-v", cwd=tmp_path)
    assert result.returncode == 1
    assert "good.cnx: ok, 12 neurons, 14 edges, 6 levels, 0 warnings" in result.stderr
    assert "bad.cnx:3:6: error: neuron 'z' is used but never declared" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cnx", "good.cnx"]


def test_check_prints_warnings_and_passes(tmp_path: Path) -> None:
    (tmp_path / "w.cnx").write_text("input x, spare\noutput y\nx -> y\n")
    result = run("check", "w.cnx", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.startswith(
        "w.cnx:1:10: warning: neuron 'spare' cannot reach any output"
    )


@pytest.mark.parametrize("flag", ["--version"])
def test_version(flag: str, tmp_path: Path) -> None:
    result = run(flag, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"connexc {connexc.__version__}"


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "connexc check FILE.cnx" in result.stdout


def test_unwritable_output_is_an_error_not_an_internal_one(tmp_path: Path) -> None:
    (tmp_path / "net.cnx").write_text(SEED)
    result = run("net.cnx", "-o", "missing/net.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "connexc: error: cannot write 'missing/net.py': No such file or directory\n"
        "  hint: check that the directory exists, is writable and has space\n"
    )
