"""The `-o` file is written whole or not at all: a failed compile, a full disk or a
kill mid-write leaves an existing file untouched and no partial file behind, and
the input file is never overwritten.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from connexc import _cli

ROOT = Path(__file__).resolve().parent.parent
GOOD = "input a\noutput b\na -> b\n"
BAD = "input a\noutput b\na -> c\n"
OLD = "# an earlier, hand-checked version\n"


def leftovers(directory: Path) -> list[str]:
    """Temporary files that a write left in `directory`."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.cnx").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.cnx").write_text(BAD, encoding="utf-8")
    (tmp_path / "out.py").write_text(OLD, encoding="utf-8")
    return tmp_path


def test_a_failed_compile_leaves_an_existing_output_untouched(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = os.stat(workdir / "out.py")
    assert _cli.main(["bad.cnx", "-o", "out.py"]) == 1
    assert (workdir / "out.py").read_text(encoding="utf-8") == OLD
    assert os.stat(workdir / "out.py").st_mtime_ns == before.st_mtime_ns
    assert leftovers(workdir) == []
    assert "error: neuron 'c' is used but never declared" in capsys.readouterr().err


def test_a_failed_compile_creates_no_output(workdir: Path) -> None:
    assert _cli.main(["bad.cnx"]) == 1
    assert not (workdir / "bad.py").exists()
    assert leftovers(workdir) == []


def test_a_full_disk_mid_write_leaves_the_old_file_and_no_temporary(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_cli.os, "fsync", full_disk)
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 1
    assert (workdir / "out.py").read_text(encoding="utf-8") == OLD
    assert leftovers(workdir) == []
    assert capsys.readouterr().err == (
        "connexc: error: cannot write 'out.py': No space left on device\n"
        "  hint: check that the directory exists, is writable and has space\n"
    )


def test_a_failed_rename_leaves_no_temporary(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: str) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(_cli.os, "replace", refuse)
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 1
    assert (workdir / "out.py").read_text(encoding="utf-8") == OLD
    assert leftovers(workdir) == []


def test_an_interrupt_mid_write_leaves_the_old_file_and_no_temporary(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli.os, "fsync", interrupted)
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 130
    assert (workdir / "out.py").read_text(encoding="utf-8") == OLD
    assert leftovers(workdir) == []


_KILLED_MID_WRITE = """\
import os, signal, sys
from connexc import _cli
def die(fd):
    os.kill(os.getpid(), signal.SIGKILL)
_cli.os.fsync = die
sys.exit(_cli.main(["net.cnx", "-o", "out.py"]))
"""


def test_a_kill_mid_write_leaves_the_old_file_whole(workdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_WRITE],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        capture_output=True,
    )
    assert done.returncode == -signal.SIGKILL
    assert (workdir / "out.py").read_text(encoding="utf-8") == OLD
    [stale] = leftovers(workdir)
    assert stale.startswith(".out.py.")

    # The next write removes it once it has sat untouched for a while.
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 0
    assert leftovers(workdir) == [stale]  # too young: it might be a live writer's
    age(workdir / stale, _cli.STALE_AFTER + 1)
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 0
    assert leftovers(workdir) == []


def age(path: Path, seconds: float) -> None:
    """Set a file's times `seconds` into the past."""
    then = path.stat().st_mtime - seconds
    os.utime(path, (then, then))


def dead_pid() -> int:
    """The id of a process that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")
def test_only_old_temporaries_of_dead_writers_to_the_same_file_are_removed(
    workdir: Path,
) -> None:
    dead = dead_pid()
    names = {
        "stale": f".out.py.{dead}.abcd_123.tmp",
        "live writer": f".out.py.{os.getpid()}.abcd_123.tmp",
        "other output": f".out.py.bak.{dead}.abcd_123.tmp",
        "not mkstemp's": f".out.py.{dead}.tmp",
        "user's file": f".out.py.{dead}.ABCD_123.tmp",
    }
    for name in names.values():
        (workdir / name).write_text("partial", encoding="utf-8")
        age(workdir / name, _cli.STALE_AFTER + 1)

    assert _cli.main(["net.cnx", "-o", "out.py"]) == 0
    kept = {k for k, name in names.items() if (workdir / name).exists()}
    assert kept == set(names) - {"stale"}


def test_a_missing_directory_is_a_clean_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli.main(["net.cnx", "-o", "no/such/dir/out.py"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "connexc: error: cannot write 'no/such/dir/out.py': No such file or directory\n"
    )
    assert "internal error" not in err


def test_an_output_that_is_a_directory_is_a_clean_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "out").mkdir()
    assert _cli.main(["net.cnx", "-o", "out"]) == 1
    assert "connexc: error: cannot write 'out': " in capsys.readouterr().err
    assert leftovers(workdir) == []


@pytest.mark.parametrize(
    "output", ["net.cnx", "./net.cnx", "other.cnx", "link.py"], ids=str
)
def test_the_input_file_is_never_overwritten(
    workdir: Path, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "link.py").symlink_to(workdir / "net.cnx")
    with pytest.raises(SystemExit) as exited:
        _cli.main(["net.cnx", "-o", output])
    assert exited.value.code == 2
    assert (workdir / "net.cnx").read_text(encoding="utf-8") == GOOD
    assert (
        "error: refusing to overwrite the input file 'net.cnx' with output"
        in capsys.readouterr().err
    )


def test_an_input_named_like_its_default_output_is_refused(workdir: Path) -> None:
    (workdir / "model.py").write_text(GOOD, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        _cli.main(["model.py"])
    assert exited.value.code == 2
    assert (workdir / "model.py").read_text(encoding="utf-8") == GOOD


def test_an_existing_output_keeps_its_mode(workdir: Path) -> None:
    os.chmod(workdir / "out.py", 0o640)
    assert _cli.main(["net.cnx", "-o", "out.py"]) == 0
    mode = stat.S_IMODE(os.stat(workdir / "out.py").st_mode)
    assert mode == 0o640
    assert (workdir / "out.py").read_text(encoding="utf-8").startswith("# Generated")


def test_a_new_output_gets_the_mode_the_umask_allows(workdir: Path) -> None:
    old = os.umask(0o027)
    try:
        assert _cli.main(["net.cnx", "-o", "fresh.py"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(workdir / "fresh.py").st_mode) == 0o640
    assert leftovers(workdir) == []


def test_writing_through_a_symlink_replaces_the_link_not_its_target(
    workdir: Path,
) -> None:
    (workdir / "target.py").write_text(OLD, encoding="utf-8")
    (workdir / "alias.py").symlink_to("target.py")
    assert _cli.main(["net.cnx", "-o", "alias.py"]) == 0
    assert (workdir / "target.py").read_text(encoding="utf-8") == OLD
    assert (workdir / "alias.py").read_text(encoding="utf-8").startswith("# Generated")


def test_write_atomically_writes_bytes_and_text_exactly(tmp_path: Path) -> None:
    _cli.write_atomically(tmp_path / "a.txt", "line one\nline two\n")
    _cli.write_atomically(tmp_path / "b.bin", b"\x00\r\n\xff")
    assert (tmp_path / "a.txt").read_bytes() == b"line one\nline two\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\r\n\xff"
    assert leftovers(tmp_path) == []
