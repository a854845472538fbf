"""The command-line front ends of the ecosystem tools: `dot`, `inspect`, `new`,
`export-json`, `import-json` and `fmt`. Each takes its argv and returns an exit
status (0 ok, 1 bad input, 2 bad usage), and writes no output file unless it
succeeded.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ._cli import add_common_options, configure_logging, guarded, write_atomically


class _Failure(Exception):
    """A problem outside any `.cnx` text: printed as one message and a hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _run(prog: str, args: argparse.Namespace, job: Callable[[], int]) -> int:
    """Run a job under `guarded`, printing a `_Failure` as `prog: error: ...`."""

    def wrapped() -> int:
        try:
            return job()
        except _Failure as failure:
            print(f"{prog}: error: {failure}\n  hint: {failure.hint}", file=sys.stderr)
            return 1

    return guarded(wrapped, debug=args.debug)


def _write(path: Path, data: str | bytes) -> None:
    """Write an output file atomically; an OS error becomes a `_Failure`."""
    try:
        write_atomically(path, data)
    except OSError as err:
        raise _Failure(
            f"cannot write '{path}': {err.strerror or err}",
            "check that the directory exists and is writable",
        ) from err


def _deliver(output: Path | None, text: str) -> None:
    """Write `text` to `output`, or to stdout when there is no output path."""
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)


def _refuse_overwriting_input(
    parser: argparse.ArgumentParser, source: str, output: Path | None
) -> None:
    if output is None:
        return
    try:
        same = Path(source).resolve() == output.resolve()
    except OSError:
        same = False
    if same:
        parser.error(f"refusing to overwrite the input file '{source}' with output")


def dot_main(argv: list[str]) -> int:
    """`connexc dot FILE [-o OUT] [--svg | --png] [--groups MODE]`."""
    from ._dot import RenderError, render_dot, to_dot
    from ._inspect import view_from_source

    parser = argparse.ArgumentParser(
        prog="connexc dot",
        description="Draw a network as Graphviz DOT, or render it to SVG or PNG "
        "with the Graphviz 'dot' program.",
    )
    parser.add_argument("file", help="the .cnx file to draw")
    parser.add_argument(
        "-o",
        "--output",
        help="where to write (default: DOT to stdout; an image beside FILE); a "
        ".svg or .png suffix selects that format",
    )
    image = parser.add_mutually_exclusive_group()
    image.add_argument("--svg", action="store_true", help="render to SVG")
    image.add_argument("--png", action="store_true", help="render to PNG")
    parser.add_argument(
        "--groups",
        choices=("auto", "expand", "collapse"),
        default="auto",
        help="draw each group as one node (collapse), every neuron (expand), or "
        "collapse only above 200 neurons (auto, the default)",
    )
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    output = Path(args.output) if args.output else None
    image_format = "svg" if args.svg else "png" if args.png else None
    if image_format is None and output is not None:
        image_format = {".svg": "svg", ".png": "png"}.get(output.suffix.lower())
    if image_format is not None and output is None:
        output = Path(args.file).with_suffix(f".{image_format}")
    _refuse_overwriting_input(parser, args.file, output)

    def job() -> int:
        from ._compile import read_source

        dot = to_dot(view_from_source(read_source(args.file)), groups=args.groups)
        if image_format is None:
            _deliver(output, dot)
            return 0
        try:
            data = render_dot(dot, image_format)
        except RenderError as err:
            raise _Failure(str(err), err.hint) from err
        assert output is not None
        _write(output, data)
        return 0

    return _run("connexc dot", args, job)


def inspect_main(argv: list[str]) -> int:
    """`connexc inspect FILE...`: a table of each file's levels."""
    from ._compile import read_source
    from ._inspect import format_level_table, view_from_source

    parser = argparse.ArgumentParser(
        prog="connexc inspect",
        description="Show what the compiler does with a network: per level its "
        "width, the neurons it gathers, the form it is evaluated in, its weight "
        "matrix against its real edges, its multiply-adds and its parameters.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".cnx files")
    parser.add_argument(
        "--strategy",
        choices=("auto", "dense", "sparse"),
        default="auto",
        help="show the choices of this compile strategy (default: auto)",
    )
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    status = 0
    for k, name in enumerate(args.files):

        def job(name: str = name, first: bool = k == 0) -> int:
            view = view_from_source(read_source(name))
            table = format_level_table(view, strategy=args.strategy)
            sys.stdout.write(("" if first else "\n") + f"{name}\n{table}")
            return 0

        status = max(status, _run("connexc inspect", args, job))
    return status


def new_main(argv: list[str]) -> int:
    """`connexc new {mlp,dense-mlp} --sizes A,B,...`: write a standard network."""
    from ._generators import new_dense_mlp, new_mlp

    parser = argparse.ArgumentParser(
        prog="connexc new",
        description="Write the .cnx file of a standard network, layers as groups.",
    )
    parser.add_argument(
        "kind",
        choices=("mlp", "dense-mlp"),
        help="mlp: each layer feeds the next; dense-mlp: each layer feeds every "
        "later layer (Connex's DenseMLP)",
    )
    parser.add_argument(
        "--sizes",
        required=True,
        help="layer widths, inputs first and outputs last, like 64,256,256,10",
    )
    parser.add_argument("--activation", default="relu", help="hidden activation")
    parser.add_argument(
        "--output-activation", default="identity", help="output transformation"
    )
    parser.add_argument(
        "--dropout", type=float, default=0.0, help="dropout of hidden neurons"
    )
    parser.add_argument("--name", help="network and class name (default: Mlp)")
    parser.add_argument(
        "-o", "--output", help="where to write the .cnx file (default: stdout)"
    )
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    try:
        sizes = [int(part) for part in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be comma-separated ints, got '{args.sizes}'")
    make = new_mlp if args.kind == "mlp" else new_dense_mlp
    options = {
        "activation": args.activation,
        "output_activation": args.output_activation,
        "dropout": args.dropout,
    }
    if args.name:
        options["name"] = args.name
    try:
        text = make(sizes, **options)
    except (TypeError, ValueError) as err:
        parser.error(str(err))

    def job() -> int:
        _deliver(Path(args.output) if args.output else None, text)
        return 0

    return _run("connexc new", args, job)


def export_json_main(argv: list[str]) -> int:
    """`connexc export-json FILE [-o OUT.json]`: the structure as JSON."""
    from ._compile import read_source
    from ._inspect import view_from_source
    from ._interop import dump_json, to_json

    parser = argparse.ArgumentParser(
        prog="connexc export-json",
        description="Write a network's structure in connexc's JSON graph format "
        "(parameters are exported from Python with connexc.to_json(model)).",
    )
    parser.add_argument("file", help="the .cnx file")
    parser.add_argument("-o", "--output", help="the JSON file (default: stdout)")
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    output = Path(args.output) if args.output else None
    _refuse_overwriting_input(parser, args.file, output)

    def job() -> int:
        _deliver(output, dump_json(to_json(view_from_source(read_source(args.file)))))
        return 0

    return _run("connexc export-json", args, job)


def import_json_main(argv: list[str]) -> int:
    """`connexc import-json GRAPH.json [-o OUT.cnx]`: JSON graph to `.cnx`."""
    from ._compile import analyse
    from ._errors import UsageError, diagnostic
    from ._interop import from_json
    from ._source import Source

    parser = argparse.ArgumentParser(
        prog="connexc import-json",
        description="Write a JSON graph (connexc's format, or one close to it such "
        "as a NEAT genome's nodes and connections) as a .cnx file.",
    )
    parser.add_argument("file", help="the JSON graph")
    parser.add_argument("-o", "--output", help="the .cnx file (default: stdout)")
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    output = Path(args.output) if args.output else None
    _refuse_overwriting_input(parser, args.file, output)

    def job() -> int:
        try:
            raw = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise _Failure(
                f"cannot read '{args.file}': {reason}",
                "check the path, and that the file is UTF-8 text",
            ) from err
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            source = Source(raw, args.file)
            raise UsageError(
                diagnostic(
                    source,
                    source.span(err.lineno, err.colno),
                    f"this is not valid JSON: {err.msg[:1].lower()}{err.msg[1:]}",
                    "the file must be one JSON object, as 'connexc export-json' writes",
                    kind="usage",
                )
            ) from err
        try:
            text = from_json(data)
        except ValueError as err:
            raise _Failure(
                f"{args.file}: {err}",
                "see the JSON graph format in the README; 'connexc export-json "
                "FILE.cnx' shows an example",
            ) from err
        # Check the graph compiles before writing anything, with positions in the
        # .cnx text that would have been written.
        analyse(Source(text, f"{args.file} (as .cnx)"))
        _deliver(output, text)
        return 0

    return _run("connexc import-json", args, job)


def fmt_main(argv: list[str]) -> int:
    """`connexc fmt [--check] FILE...`: rewrite files in the canonical layout."""
    from ._compile import read_source
    from ._fmt import format_cnx

    parser = argparse.ArgumentParser(
        prog="connexc fmt",
        description="Rewrite .cnx files in the canonical layout of connexc.to_cnx, "
        "keeping comments. Directories are searched for *.cnx files; '-' formats "
        "stdin to stdout.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".cnx files")
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list the files that would change and exit 1 if any",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="change nothing; print a unified diff of what would change, exit 1 if "
        "anything would",
    )
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    if "-" in args.files:
        if len(args.files) > 1:
            parser.error("'-' (stdin) cannot be combined with other files")
        return _run(
            "connexc fmt", args, lambda: _format_stdin(format_cnx, check=args.check)
        )

    status = 0
    for path in _cnx_files(args.files):

        def job(path: Path = path) -> int:
            source = read_source(path)
            formatted = format_cnx(source.text, filename=str(path))
            if formatted == source.text:
                return 0
            if args.diff:
                before = [f"{line}\n" for line in source.text.splitlines()]
                after = formatted.splitlines(keepends=True)
                sys.stdout.writelines(
                    difflib.unified_diff(
                        before, after, f"{path}", f"{path} (formatted)"
                    )
                )
                return 1
            if args.check:
                print(f"would reformat {path}")
                return 1
            _write(path, formatted)
            print(f"reformatted {path}", file=sys.stderr)
            return 0

        status = max(status, _run("connexc fmt", args, job))
    return status


def _format_stdin(format_cnx: Callable[..., str], *, check: bool) -> int:
    text = sys.stdin.read()
    formatted = format_cnx(text, filename="<stdin>")
    if check:
        if formatted != text:
            print("would reformat <stdin>")
            return 1
        return 0
    sys.stdout.write(formatted)
    return 0


def _cnx_files(names: list[str]) -> list[Path]:
    """The files to format: those named, and the `*.cnx` files under directories."""
    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.cnx") if p.is_file())
        else:
            files.append(path)
    return files
