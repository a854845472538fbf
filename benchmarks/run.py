"""Benchmark connexc's generated modules against Connex 0.3.3 and `eqx.nn.MLP`.

For every graph (built deterministically by `benchmarks/graphs.py`) it measures, per
implementation:

- build: constructing the model object (for connexc: importing the generated module
  and instantiating the class; compiling the `.cnx` is reported separately);
- first step: the first call of a jitted Adam/MSE train step on a batch of 256,
  which is trace plus XLA compile;
- peak RSS of a process that builds the model and runs its first steps;
- dispatch: an empty `eqx.filter_jit` call taking the model;
- train step and forward (inference, batch 256) medians, timed with all
  implementations interleaved in one process, so that load from other processes on
  the machine hits them alike;
- for connexc, its own compile time (`.cnx` text to Python) in fresh processes and
  the generated file's size.

Build, first step, RSS and dispatch come from one fresh process per graph and
implementation. Connex is called as `jax.vmap(lambda x: net(x))`, since
`jax.vmap(net)` makes JAX pretty-print the whole Connex object.

    python benchmarks/run.py            # every graph; long (Connex builds are slow)
    python benchmarks/run.py --quick    # four small graphs, few repeats: 5-10 minutes

Install with `pip install -e ".[bench]"`: Connex 0.3.3 pins nothing, but run it from
its own virtual environment if you want to keep another one's packages untouched.
Results go to `benchmarks/results/` (`results.json`, `results.md`, `ratios.png`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import graphs  # noqa: E402

BATCH = 256
RESULTS = HERE / "results"

# Graph name -> builder; the order is the order of the table.
GRAPHS = {
    "readme-12": lambda: graphs.readme_network(),
    "mlp-64-256-256-10": lambda: graphs.mlp((64, 256, 256, 10)),
    "random-200": lambda: graphs.random_dag(200, seed=1, depth=30),
    "random-1000": lambda: graphs.random_dag(1000, seed=2, depth=38),
    "random-3000": lambda: graphs.random_dag(3000, seed=3, depth=45),
    "deep-100": lambda: graphs.deep_dag(100, seed=4),
    "deep-200": lambda: graphs.deep_dag(200, seed=5),
    "deep-400": lambda: graphs.deep_dag(400, seed=6),
    "wide-sparse-20000": lambda: graphs.wide_sparse_dag(20_000, seed=7),
}
QUICK_GRAPHS = ["readme-12", "mlp-64-256-256-10", "random-200", "deep-100"]


def cnx_text(graph: graphs.Graph) -> str:
    import connexc

    return connexc.from_adjacency(
        graph.adjacency, graph.inputs, graph.outputs, name="Bench"
    )


def build(impl: str, graph: graphs.Graph):
    """The model for one implementation; `connexc[-strategy]`, `connex` or `mlp`."""
    import equinox  # noqa: F401  (imported before timing, as every model needs it)
    import jax

    key = jax.random.key(0)
    if impl.startswith("connexc"):
        import connexc

        strategy = impl.partition("-")[2] or "auto"
        code = connexc.compile_source(
            cnx_text(graph), filename="bench.cnx", strategy=strategy
        )
        start = time.perf_counter()
        namespace: dict = {"__name__": f"bench_{impl.replace('-', '_')}"}
        module = type(sys)(namespace["__name__"])
        sys.modules[module.__name__] = module
        exec(compile(code, "bench.py", "exec"), module.__dict__)
        model = module.Bench(key=key)
        jax.block_until_ready(model)
        return model, time.perf_counter() - start
    if impl == "connex":
        import connex

        start = time.perf_counter()
        model = connex.NeuralNetwork(
            graph.adjacency, graph.inputs, graph.outputs, jax.nn.relu, key=key
        )
        jax.block_until_ready(model)
        return model, time.perf_counter() - start
    if impl == "mlp":
        import equinox as eqx

        sizes = graph.layers
        start = time.perf_counter()
        model = eqx.nn.MLP(
            sizes[0],
            sizes[-1],
            width_size=sizes[1],
            depth=len(sizes) - 2,
            activation=jax.nn.relu,
            key=key,
        )
        jax.block_until_ready(model)
        return model, time.perf_counter() - start
    raise ValueError(f"unknown implementation {impl!r}")


def functions(graph: graphs.Graph):
    """The jitted train step, forward pass and empty call, plus a batch of data."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    optimizer = optax.adam(1e-3)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(BATCH, len(graph.inputs))), jnp.float32)
    y = jnp.asarray(rng.normal(size=(BATCH, len(graph.outputs))), jnp.float32)

    def batched(model, x):
        return jax.vmap(lambda sample: model(sample))(x)

    @eqx.filter_jit
    def train_step(model, state, x, y):
        def loss(model):
            return jnp.mean((batched(model, x) - y) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimizer.update(grads, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), state, value

    forward = eqx.filter_jit(batched)
    empty = eqx.filter_jit(lambda model: None)

    def init(model):
        return optimizer.init(eqx.filter(model, eqx.is_inexact_array))

    return train_step, forward, empty, init, x, y


def timed(f, *args):
    import jax

    start = time.perf_counter()
    out = f(*args)
    jax.block_until_ready(out)
    return time.perf_counter() - start, out


def worker_cold(graph_name: str, impl: str) -> dict:
    """Build, first step, dispatch and peak RSS, in this (fresh) process."""
    graph = GRAPHS[graph_name]()
    model, build_s = build(impl, graph)
    train_step, forward, empty, init, x, y = functions(graph)
    state = init(model)
    first_s, (model, state, _) = timed(train_step, model, state, x, y)
    first_forward_s, _ = timed(forward, model, x)
    for _ in range(3):
        model, state, _ = train_step(model, state, x, y)
    empty(model)
    dispatch = []
    for _ in range(300):
        start = time.perf_counter()
        empty(model)
        dispatch.append(time.perf_counter() - start)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "build_s": build_s,
        "first_step_s": first_s,
        "first_forward_s": first_forward_s,
        "dispatch_s": statistics.median(dispatch),
        "peak_rss_mib": rss_kib / 1024,
    }


def worker_steady(graph_name: str, impls: list[str], rounds: int) -> dict:
    """Train-step and forward medians, implementations interleaved round by round."""
    graph = GRAPHS[graph_name]()
    train_step, forward, empty, init, x, y = functions(graph)
    models, states = {}, {}
    for impl in impls:
        models[impl], _ = build(impl, graph)
        states[impl] = init(models[impl])
        models[impl], states[impl], _ = train_step(models[impl], states[impl], x, y)
        forward(models[impl], x)
    times: dict = {impl: {"train_step_s": [], "forward_s": []} for impl in impls}
    for r in range(rounds):
        order = impls[r % len(impls) :] + impls[: r % len(impls)]
        for impl in order:
            t, (models[impl], states[impl], _) = timed(
                train_step, models[impl], states[impl], x, y
            )
            times[impl]["train_step_s"].append(t)
            t, _ = timed(forward, models[impl], x)
            times[impl]["forward_s"].append(t)
    return {
        impl: {name: statistics.median(v) for name, v in found.items()}
        for impl, found in times.items()
    }


def worker_compile(graph_name: str) -> dict:
    """connexc's own compile time (text to Python) and the generated file's size."""
    import connexc

    text = cnx_text(GRAPHS[graph_name]())
    start = time.perf_counter()
    code = connexc.compile_source(text, filename="bench.cnx")
    return {
        "compile_s": time.perf_counter() - start,
        "file_bytes": len(code.encode()),
        "summary": [line for line in code.splitlines() if "- Strategy:" in line][0],
    }


def in_subprocess(args: list[str], timeout: float) -> dict:
    """Run this script as a worker in a fresh process; its last stdout line is JSON."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {done.returncode}: {tail[0][:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def impls_for(graph_name: str, graph: graphs.Graph, args) -> list[str]:
    impls = list(args.impls)
    if graph.layers is None and "mlp" in impls:
        impls.remove("mlp")
    if "connex" in impls and graph_name in args.skip_connex:
        impls.remove("connex")
    return impls


def measure(args) -> dict:
    results: dict = {}
    for name in args.graphs:
        graph = GRAPHS[name]()
        impls = impls_for(name, graph, args)
        print(
            f"{name}: {graph.n_neurons} neurons, {graph.n_edges} edges; {impls}",
            flush=True,
        )
        entry: dict = {
            "neurons": graph.n_neurons,
            "edges": graph.n_edges,
            "impls": {impl: {} for impl in impls},
        }
        compiles = [
            in_subprocess(["--worker", "compile", name], args.timeout)
            for _ in range(args.compile_repeats)
        ]
        good = [c for c in compiles if "error" not in c]
        if good:
            entry["compile_s"] = statistics.median(c["compile_s"] for c in good)
            entry["file_bytes"] = good[0]["file_bytes"]
            entry["summary"] = good[0]["summary"]
        for impl in impls:
            cold = in_subprocess(["--worker", "cold", name, impl], args.timeout)
            entry["impls"][impl].update(cold)
            print(f"  {impl} cold: {cold}", flush=True)
        ok = [i for i in impls if "error" not in entry["impls"][i]]
        steady = in_subprocess(
            ["--worker", "steady", name, ",".join(ok), str(args.rounds)],
            args.timeout,
        )
        if "error" in steady:
            print(f"  steady: {steady}", flush=True)
        else:
            for impl, found in steady.items():
                entry["impls"][impl].update(found)
                print(f"  {impl} steady: {found}", flush=True)
        results[name] = entry
    return results


METRICS = [
    ("build_s", "build", "s"),
    ("first_step_s", "first step", "s"),
    ("train_step_s", "train step", "ms"),
    ("forward_s", "forward", "ms"),
    ("dispatch_s", "dispatch", "us"),
    ("peak_rss_mib", "peak RSS", "MiB"),
]
SCALE = {"s": 1.0, "ms": 1e3, "us": 1e6, "MiB": 1.0}


def ratio(results: dict, graph: str, metric: str, other: str = "connex"):
    impls = results[graph]["impls"]
    a = impls.get(other, {}).get(metric)
    b = impls.get("connexc", {}).get(metric)
    return a / b if a and b else None


def _cell(impls: dict, impl: str, metric: str, unit: str) -> str:
    """One table cell: the value in `unit`, the failure, or blank if not run."""
    if impl not in impls:
        return ""
    value = impls[impl].get(metric)
    if value is None:
        return impls[impl].get("error", "-")
    return f"{value * SCALE[unit]:,.3g} {unit}"


def markdown(results: dict) -> str:
    lines = [
        "| graph | metric | connexc | Connex 0.3.3 | Connex / connexc | eqx MLP "
        "| MLP / connexc |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for graph, entry in results.items():
        impls = entry["impls"]
        for metric, label, unit in METRICS:
            r = ratio(results, graph, metric)
            m = ratio(results, graph, metric, "mlp")
            lines.append(
                f"| {graph} | {label} | {_cell(impls, 'connexc', metric, unit)} | "
                f"{_cell(impls, 'connex', metric, unit)} | "
                f"{f'{r:.2f}x' if r else ''} | {_cell(impls, 'mlp', metric, unit)} | "
                f"{f'{m:.2f}x' if m else ''} |"
            )
        if "compile_s" in entry:
            lines.append(
                f"| {graph} | connexc compile | {entry['compile_s'] * 1e3:,.0f} ms, "
                f"{entry['file_bytes'] / 1024:,.0f} KiB | | | | |"
            )
    return "\n".join(lines) + "\n"


def summary(results: dict) -> str:
    """One row per graph: Connex / connexc ratios (and eqx MLP / connexc)."""
    lines = [
        "| graph | neurons | edges | build | first step | train step | forward "
        "| dispatch | peak RSS | connexc train step |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for graph, entry in results.items():
        cells = []
        for metric, _, _ in METRICS:
            r = ratio(results, graph, metric)
            m = ratio(results, graph, metric, "mlp")
            cell = f"{r:.1f}x" if r else "-"
            if m:
                cell += f" (MLP {m:.2f}x)"
            cells.append(cell)
        own = entry["impls"].get("connexc", {}).get("train_step_s")
        own_cell = f"{own * 1e3:.3g} ms" if own else "-"
        lines.append(
            f"| {graph} | {entry['neurons']:,} | {entry['edges']:,} | "
            + " | ".join(cells)
            + f" | {own_cell} |"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in METRICS if m[0] != "peak_rss_mib"] + [METRICS[-1]]
    names = list(results)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(shown)
    for i, (metric, label, _) in enumerate(shown):
        values = [ratio(results, g, metric) or 0.0 for g in names]
        xs = [j + (i - len(shown) / 2 + 0.5) * width for j in range(len(names))]
        ax.bar(xs, values, width, label=label)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_ylabel("Connex 0.3.3 / connexc (higher is better)")
    ax.set_title(f"connexc vs Connex 0.3.3, CPU, batch {BATCH}")
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small graphs, few runs")
    parser.add_argument("--graphs", help="comma-separated graph names")
    parser.add_argument(
        "--impls",
        default="connexc,connex,mlp",
        help="comma-separated: connexc, connexc-dense, connexc-sparse, connex, mlp",
    )
    parser.add_argument("--rounds", type=int, help="interleaved timing rounds")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--skip-connex",
        default="wide-sparse-20000",
        help="graphs on which Connex is not run (default: the wide DAG, whose dense "
        "per-level matrices hold about 145 million weights); '' runs it everywhere",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="update the graphs measured now in an existing results.json",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the tables and plot from an existing results.json",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    if args.worker:
        kind, *rest = args.worker
        if kind == "cold":
            found = worker_cold(rest[0], rest[1])
        elif kind == "steady":
            found = worker_steady(rest[0], rest[1].split(","), int(rest[2]))
        else:
            found = worker_compile(rest[0])
        print(json.dumps(found))
        return

    if args.report_only:
        out = Path(args.out)
        write_reports(json.loads((out / "results.json").read_text()), out)
        return
    args.impls = args.impls.split(",")
    args.skip_connex = [g for g in args.skip_connex.split(",") if g]
    if args.graphs:
        args.graphs = args.graphs.split(",")
    else:
        args.graphs = QUICK_GRAPHS if args.quick else list(GRAPHS)
    args.rounds = args.rounds or (15 if args.quick else 40)
    args.compile_repeats = 1 if args.quick else 3
    results = measure(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.merge and (out / "results.json").exists():
        merged = json.loads((out / "results.json").read_text())["graphs"]
        merged.update(results)
        results = {g: merged[g] for g in GRAPHS if g in merged}
    info = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "batch": BATCH,
        "rounds": args.rounds,
        "quick": args.quick,
    }
    report = {"info": info, "graphs": results}
    (out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    write_reports(report, out)


def write_reports(report: dict, out: Path = RESULTS) -> None:
    """The full table, the one-row-per-graph summary and the plot, from results."""
    results = report["graphs"]
    (out / "results.md").write_text(markdown(results))
    (out / "summary.md").write_text(summary(results))
    plot(results, out / "ratios.png")
    print(summary(results))


if __name__ == "__main__":
    tempfile.tempdir = tempfile.gettempdir()
    main()
