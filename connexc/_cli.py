"""The `connexc` command line: compile `.cnx` files, check them, and run the
subcommands that other modules register in `COMMANDS`.

Exit status: 0 on success, 1 when an input has errors, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ._compile import analyse, compile_network, read_source
from ._errors import CompileError
from ._progress import DelayedStatus
from ._version import VERSION

logger = logging.getLogger("connexc")

# Subcommands: name -> "module:function" taking argv and returning an exit status.
# Loaded lazily, so `connexc net.cnx` imports only what compiling needs.
COMMANDS: dict[str, str] = {
    "check": "connexc._cli:check_main",
    "dot": "connexc._subcommands:dot_main",
    "inspect": "connexc._subcommands:inspect_main",
    "new": "connexc._subcommands:new_main",
    "export-json": "connexc._subcommands:export_json_main",
    "import-json": "connexc._subcommands:import_json_main",
    "fmt": "connexc._subcommands:fmt_main",
    "diff": "connexc._diff:main",
}

_USAGE = """\
connexc FILE.cnx [-o OUT.py] [--strategy {{auto,dense,sparse}}] [-v] [--debug]
       connexc check FILE.cnx... [-v]
       connexc COMMAND --help   (commands: {commands})"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module_name, function = COMMANDS[argv[0]].split(":")
        command: Callable[[list[str]], int] = getattr(
            importlib.import_module(module_name), function
        )
        return command(argv[1:])
    return compile_main(argv)


def compile_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="connexc",
        usage=_USAGE.format(commands=", ".join(sorted(COMMANDS))),
        description="Compile a .cnx network description to a standalone Equinox "
        "module.",
    )
    parser.add_argument("file", help="the .cnx file to compile")
    parser.add_argument(
        "-o",
        "--output",
        help="where to write the module (default: FILE with a .py suffix)",
    )
    parser.add_argument(
        "--strategy",
        choices=("auto", "dense", "sparse"),
        default="auto",
        help="how levels are evaluated: by a cost model (auto), as masked matmuls "
        "(dense) or as padded fan-in sums (sparse)",
    )
    add_common_options(parser)
    parser.add_argument("--version", action="version", version=f"connexc {VERSION}")
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    source_path = Path(args.file)
    output = Path(args.output) if args.output else source_path.with_suffix(".py")
    if output.suffix == ".cnx" or _same_file(source_path, output):
        parser.error(f"refusing to overwrite the input file '{args.file}' with output")

    def run() -> int:
        start = time.perf_counter()
        source = read_source(source_path)
        with DelayedStatus(f"compiling {args.file}"):
            compiled = compile_network(source, strategy=args.strategy)
        print_diagnostics(compiled.warnings)
        try:
            write_atomically(output, compiled.code)
        except OSError as err:  # a full disk or a missing directory, not a bug
            print(cannot_write(output, err), file=sys.stderr)
            return 1
        logger.info(
            "%s -> %s: %d neurons, %d edges, %d levels, %d warnings (%.0f ms)",
            args.file,
            output,
            len(compiled.network.neurons),
            len(compiled.network.edges),
            len(compiled.levels),
            len(compiled.warnings),
            1e3 * (time.perf_counter() - start),
        )
        return 0

    return guarded(run, debug=args.debug)


def check_main(argv: list[str]) -> int:
    """`connexc check FILE...`: report diagnostics without writing anything."""
    parser = argparse.ArgumentParser(
        prog="connexc check",
        description="Check .cnx files and print their errors and warnings.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".cnx files to check")
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    status = 0
    for name in args.files:

        def run(name: str = name) -> int:
            source = read_source(name)
            with DelayedStatus(f"checking {name}"):
                network, levels, found = analyse(source)
            print_diagnostics(found)
            logger.info(
                "%s: ok, %d neurons, %d edges, %d levels, %d warnings",
                name,
                len(network.neurons),
                len(network.edges),
                len(levels),
                len(found),
            )
            return 0

        status = max(status, guarded(run, debug=args.debug))
    return status


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """`-v` and `--debug`, shared by every subcommand."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="print per-stage timings and a summary line per file (-vv: all "
        "debug detail)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show Python tracebacks of failures"
    )


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity > 1:
        level = logging.DEBUG
    # -v also shows the pipeline's per-stage timings, which it logs at DEBUG.
    stages = logging.DEBUG if verbosity == 1 else logging.NOTSET
    logging.getLogger("connexc._compile").setLevel(stages)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def guarded(run: Callable[[], int], *, debug: bool) -> int:
    """Run one job, turning compile errors into exit status 1 without a traceback."""
    try:
        return run()
    except CompileError as err:
        if debug:
            raise
        print(err, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("connexc: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # an output that cannot be written, a full disk
        if debug:
            raise
        where = f" '{err.filename}'" if err.filename else ""
        print(
            f"connexc: error: cannot write{where}: {err.strerror or err}\n"
            "  hint: check that the directory exists, is writable and has space",
            file=sys.stderr,
        )
        return 1
    except Exception as err:  # an internal bug: say so plainly, trace only on request
        if debug:
            raise
        print(
            f"connexc: internal error: {type(err).__name__}: {err}\n"
            "  hint: this is a bug in connexc; rerun with --debug for a traceback "
            "and report it",
            file=sys.stderr,
        )
        return 1


def print_diagnostics(found: Sequence) -> None:
    for diagnostic in found:
        print(diagnostic.render(), file=sys.stderr)


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write text or bytes to `path` through a temporary file beside it and a rename.

    A failure at any point leaves an existing `path` untouched and no partial file.
    """
    directory = path.parent if str(path.parent) else Path(".")
    _remove_stale_temporaries(directory, path.name)
    try:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory
        )
    except OSError as err:  # name the file asked for, not the temporary one
        raise OSError(err.errno, err.strerror, str(path)) from err
    try:
        if isinstance(text, bytes):
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)


# A temporary is `.NAME.PID.XXXXXXXX.tmp`, XXXXXXXX being mkstemp's random letters.
_TEMPORARY = r"\.{name}\.(\d+)\.[a-z0-9_]{{8}}\.tmp"
# Seconds a dead writer's temporary must sit untouched before it is removed.
STALE_AFTER = 60.0


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Delete the temporaries of writes to `name` whose process was killed.

    A killed writer cannot clean up after itself; its temporary was never renamed
    into place, so it holds nothing the user asked for. Only files whose process is
    gone and that nobody has written to for `STALE_AFTER` seconds are removed: the
    age check protects a live writer on another machine sharing the directory,
    whose process id means nothing here.
    """
    if os.name != "posix":
        return  # os.kill(pid, 0) tests for a process only on POSIX
    pattern = re.compile(_TEMPORARY.format(name=re.escape(name)))
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _process_exists(int(match[1])):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime >= STALE_AFTER:
                os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to remove: either way, not an error


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number too large: keep the file
    return True


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; best effort, since not every system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def cannot_write(path: Path, err: OSError) -> str:
    """The report for an output file that could not be written.

    It names `path` even when `err` does not, as with a full disk.
    """
    return (
        f"connexc: error: cannot write '{path}': {err.strerror or err}\n"
        "  hint: check that the directory exists, is writable and has space"
    )


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; otherwise the usual mode under the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
