"""Turns the benchmark's wrk outputs into one table, and checks two servers answer alike.

    python bench/report.py table RUNS.tsv --out bench/results.md --binary PATH --seconds N
    python bench/report.py same A.json B.json

RUNS.tsv has one line per load run: workload, connections, server, the file holding wrk's
output (`--latency`), then the server's VmRSS, the summed VmRSS of its descendants and how
many they are, in KiB, sampled right after the run. `table` prints the table in Markdown and
writes it with the machine's description to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

FEATHER = "feather"
# The baselines, in the table's order; feather's Python rows are compared with each.
BASELINES = ("fastapi", "mosec", "mosec-batch")
MOSECS = ("mosec", "mosec-batch")
# Workloads compared with another workload of feather's own, measured in the same run: the
# native engine against the Python workers serving the same model.
NATIVE_BASE = {"iris-onnx": "iris"}

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class Run:
    workload: str
    connections: int
    server: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    rss_server_kb: int
    rss_children_kb: int
    children: int
    cpu_s: float = 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_s * 1e6 / self.requests if self.requests else 0.0

    @property
    def rss_mib(self) -> float:
        return (self.rss_server_kb + self.rss_children_kb) / 1024


def _duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m[1]) * _UNITS_MS[m[2]]


def parse_wrk(output: str) -> dict[str, float | int]:
    """Requests per second, p50 and p99 in ms, the request count, and errors (non-2xx/3xx
    answers plus socket errors) from the output of `wrk --latency`."""

    def find(pattern: str) -> re.Match[str]:
        m = re.search(pattern, output, re.MULTILINE)
        if m is None:
            raise ValueError(f"wrk's output has no match for {pattern!r}:\n{output}")
        return m

    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(m[1])
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(g) for g in m.groups())
    return {
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        "p50_ms": _duration_ms(find(r"^\s+50%\s+(\S+)")[1]),
        "p99_ms": _duration_ms(find(r"^\s+99%\s+(\S+)")[1]),
        "requests": int(find(r"^\s+(\d+) requests in")[1]),
        "errors": errors,
    }


def read_runs(tsv: Path) -> list[Run]:
    runs = []
    for line in tsv.read_text().splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        workload, conns, server, wrk_file, rss_server, rss_children, children = fields[:7]
        cpu = float(fields[7]) if len(fields) > 7 else 0.0
        runs.append(
            Run(
                workload=workload,
                connections=int(conns),
                server=server,
                rss_server_kb=int(rss_server),
                rss_children_kb=int(rss_children),
                children=int(children),
                cpu_s=cpu,
                **parse_wrk(Path(wrk_file).read_text()),  # type: ignore[arg-type]
            )
        )
    return runs


def _ms(x: float) -> str:
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def best_mosec(runs: list[Run], workload: str, connections: int) -> Run | None:
    """The mosec configuration that served more requests per second at this load."""
    mosecs = [
        r
        for r in runs
        if r.server in MOSECS and (r.workload, r.connections) == (workload, connections)
    ]
    return max(mosecs, key=lambda r: r.rps, default=None)


def comparisons(runs: list[Run], r: Run) -> list[tuple[str, Run]]:
    """What a row is compared with, each with its name: for feather's Python rows every baseline
    at the same load and the better mosec; for the native engine, feather's own Python model."""
    if r.server != FEATHER:
        return []
    at = {(x.server, x.workload, x.connections): x for x in runs}
    if r.workload in NATIVE_BASE:
        base = at.get((FEATHER, NATIVE_BASE[r.workload], r.connections))
        return [(f"feather {NATIVE_BASE[r.workload]}", base)] if base else []
    out = [
        (b, at[(b, r.workload, r.connections)])
        for b in BASELINES
        if (b, r.workload, r.connections) in at
    ]
    best = best_mosec(runs, r.workload, r.connections)
    if best is not None:
        out.append(("best mosec", best))
    return out


def _ratios(pairs: list[tuple[str, float]]) -> str:
    return " · ".join(f"{name} {x:.2f}" for name, x in pairs)


def rows(runs: list[Run]) -> list[list[str]]:
    out = []
    for r in runs:
        against = comparisons(runs, r)
        rps = _ratios([(n, r.rps / b.rps) for n, b in against if b.rps])
        p99 = _ratios([(n, r.p99_ms / b.p99_ms) for n, b in against if b.p99_ms])
        each = r.rss_children_kb / 1024 / max(r.children, 1)
        out.append(
            [
                r.workload,
                str(r.connections),
                r.server,
                f"{r.rps:,.0f}",
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                f"{r.rss_mib:.0f} ({r.rss_server_kb / 1024:.0f} + {r.children} x {each:.0f})",
                f"{r.cpu_us_per_request:.0f}" if r.cpu_s else "",
                rps,
                p99,
                f"{r.errors:,} / {r.requests:,}",
            ]
        )
    return out


def targets(runs: list[Run]) -> str:
    """feather's Python path against the better mosec at each load: the speed round's aim of at
    least twice the requests per second with a p99 no higher."""
    lines = []
    for r in runs:
        best = best_mosec(runs, r.workload, r.connections)
        if r.server != FEATHER or r.workload in NATIVE_BASE or best is None or not best.rps:
            continue
        ratio = r.rps / best.rps
        held = ratio >= 2 and r.p99_ms <= best.p99_ms and r.errors == 0
        lines.append(
            f"- {r.workload} at {r.connections}: {ratio:.2f}x {best.server}'s req/s, p99 "
            f"{_ms(r.p99_ms)} against {_ms(best.p99_ms)}: {'holds' if held else 'not yet'}"
        )
    return "\n".join(lines)


HEADER = [
    "workload",
    "conns",
    "server",
    "req/s",
    "p50",
    "p99",
    "RSS MiB (server + procs x each)",
    "CPU µs / req",
    "req/s vs",
    "p99 vs",
    "errors / requests",
]


def markdown(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    numeric = {3, 4, 5, 7}

    def line(cells: list[str]) -> str:
        padded = (
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(header), rule + "|", *(line(r) for r in body)])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def describe(binary: str, seconds: int, threads: int) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = len(os.sched_getaffinity(0))
    build = "release" if "/release/" in binary else "debug" if "/debug/" in binary else "given"
    return "\n".join(
        [
            f"- date: {when}",
            f"- machine: {platform.machine()}, {cores} cores (nproc), {cpu_model()}",
            f"- feather: `{binary}` ({build} build), 2 workers per model",
            f"- baselines: FastAPI {_version('fastapi')} + uvicorn {_version('uvicorn')}, "
            f"2 worker processes; mosec {_version('mosec')}, 2 workers per model, plain "
            f"(`mosec`) and with dynamic batching of up to 32 requests, 5 ms wait (`mosec-batch`)",
            f"- load: wrk, {threads} threads, {seconds} s a run, on the same cores as the servers",
        ]
    )


NOTES = """\
req/s vs: feather's requests per second over each baseline's at the same load (above 1: feather
serves more); best mosec is the mosec configuration with more requests per second at that load.
p99 vs: feather's 99th-percentile latency over theirs (below 1: feather answers faster). RSS:
VmRSS of the server process plus that of all its descendants (feather: the Python workers of
both models; FastAPI: uvicorn's supervisor and workers; mosec: its Rust front and its Python
workers), sampled halfway through each run; shared pages count once per process. iris-onnx is
the same iris classifier converted to ONNX and run by ONNX Runtime inside the server: it is
compared with feather's own Python iris at the same load, measured in the same run. CPU µs / req:
user and system CPU of the server and its descendants during the run, over the requests answered
(wrk runs on the same cores and is not counted)."""


def cold(tsv: Path) -> str:
    """The cold-start lines: the idle server's memory, and each model's first prediction with
    the memory once its worker is up (aims: idle at most 30 MB, a first answer within 1 s)."""
    lines = []
    for line in tsv.read_text().splitlines():
        what, took, rss = line.split("\t")
        server_kb, children_kb, count = (int(x) for x in rss.split())
        mib = server_kb / 1024
        if what == "idle":
            verdict = "holds" if server_kb * 1024 <= 30e6 else "not yet"
            lines.append(
                f"- idle, the models published and no worker up: server {mib:.1f} MiB, "
                f"{count} processes under it (aim: at most 30 MB: {verdict})"
            )
            continue
        seconds = float(took)
        each = children_kb / 1024 / max(count, 1)
        lines.append(
            f"- {what}'s first prediction, a worker started for it: {seconds:.2f} s (aim: at most "
            f"1 s: {'holds' if seconds <= 1 else 'not yet'}); then server {mib:.1f} MiB + "
            f"{count} processes of {each:.1f} MiB each"
        )
    return "\n".join(lines)


def table(args: argparse.Namespace) -> int:
    runs = read_runs(args.runs)
    text = markdown(HEADER, rows(runs))
    print(text)
    failed = [r for r in runs if r.errors]
    warning = ""
    if failed:
        names = ", ".join(f"{r.server} {r.workload} c={r.connections}" for r in failed)
        warning = f"\n**Some requests failed** ({names}): those figures are not comparable.\n"
        print(warning, file=sys.stderr)
    aims = targets(runs)
    starts = cold(args.cold) if args.cold and args.cold.is_file() else ""
    if starts:
        print("\ncold starts (feather restarted with --min-workers 0):\n" + starts)
    if aims:
        print("\nagainst the better mosec (aim: >= 2x req/s, p99 no higher):\n" + aims)
    args.out.write_text(
        "# feather benchmark\n\n"
        + describe(args.binary, args.seconds, args.threads)
        + "\n\n"
        + text
        + "\n"
        + warning
        + (
            "\nAgainst the better mosec (aim: at least 2x the req/s, p99 no higher):\n\n"
            + aims
            + "\n"
            if aims
            else ""
        )
        + (
            "\nCold starts, feather restarted on the same data with `--min-workers 0`:\n\n"
            + starts
            + "\n"
            if starts
            else ""
        )
        + "\n"
        + NOTES
        + "\n"
    )
    return 0


def same(args: argparse.Namespace) -> int:
    a, b = (json.loads(Path(p).read_text()) for p in (args.a, args.b))
    if a == b:
        return 0
    print(f"the answers differ:\n  {args.a}: {json.dumps(a)}\n  {args.b}: {json.dumps(b)}")
    return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True)
    t = sub.add_parser("table", help="print the table and write it to --out")
    t.add_argument("runs", type=Path)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--binary", default="feather")
    t.add_argument("--seconds", type=int, required=True)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--cold", type=Path, help="the cold starts' TSV (what, seconds, RSS)")
    t.set_defaults(func=table)
    s = sub.add_parser("same", help="exit 0 when two JSON files hold the same document")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(func=same)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
