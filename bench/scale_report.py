"""The scale-out benchmark's table: predict on SQLite + a folder against PostgreSQL + S3, the
time to publish a large bundle on each, and two replicas behind nginx against one.

    python bench/scale_report.py RUNS.tsv PUBLISH.tsv --out bench/scale-results.md \
        --binary PATH --seconds N --threads N

RUNS.tsv is bench/run.sh's format (servers here: sqlite, postgres, nginx-1, nginx-2);
PUBLISH.tsv has one line per publish: engine, bundle bytes, seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

from report import Run, cpu_model, read_runs

# Each row's server, and the one it is compared with in the same run.
PAIRS = (("postgres", "sqlite"), ("nginx-2", "nginx-1"))
SERVERS = ("sqlite", "postgres", "nginx-1", "nginx-2")
# PostgreSQL + S3 against SQLite + a folder: the hot path must not touch the registry.
WITHIN = 0.10


def _same(runs: list[Run], server: str, workload: str, conns: int) -> list[Run]:
    """That server's runs at that load, round by round."""
    return [r for r in runs if (r.server, r.workload, r.connections) == (server, workload, conns)]


def _find(runs: list[Run], server: str, workload: str, conns: int) -> Run | None:
    """The run with the median requests per second of that server's rounds at that load."""
    same = sorted(_same(runs, server, workload, conns), key=lambda r: r.rps)
    return same[(len(same) - 1) // 2] if same else None


def _ratio(runs: list[Run], server: str, base: str, workload: str, conns: int) -> float | None:
    """The median over rounds of the server's requests per second against the base's in the
    same round: each round loads both in turn, so what the machine does to one it does to the
    other."""
    mine, theirs = _same(runs, server, workload, conns), _same(runs, base, workload, conns)
    ratios = [r.rps / b.rps for r, b in zip(mine, theirs, strict=True) if b.rps]
    return statistics.median(ratios) if ratios else None


def _rounds(runs: list[Run], server: str) -> int:
    keys = [(r.workload, r.connections) for r in runs if r.server == server]
    return max((keys.count(k) for k in keys), default=0)


def rows(runs: list[Run]) -> list[list[str]]:
    out = []
    keys = sorted({(r.workload, r.connections) for r in runs})
    for server in SERVERS:
        for workload, conns in keys:
            r = _find(runs, server, workload, conns)
            if r is None:
                continue
            base = next((b for s, b in PAIRS if s == server), None)
            x = _ratio(runs, server, base, workload, conns) if base else None
            ratio = f"{x:.2f}x {base}" if x is not None else ""
            out.append(
                [
                    f"{server} ({_rounds(runs, server)})",
                    workload,
                    str(conns),
                    f"{r.rps:,.0f}",
                    ratio,
                    f"{r.p50_ms:.2f}",
                    f"{r.p99_ms:.2f}",
                    str(r.errors),
                ]
            )
    return out


def verdicts(runs: list[Run]) -> list[str]:
    lines = []
    for workload, conns in sorted({(r.workload, r.connections) for r in runs}):
        ratio = _ratio(runs, "postgres", "sqlite", workload, conns)
        if ratio is not None:
            held = "holds" if abs(ratio - 1) <= WITHIN else "does not hold"
            lines.append(
                f"- {workload} at {conns} connections: PostgreSQL + S3 serves {ratio:.2f}x "
                f"SQLite + folder (aim: within {WITHIN:.0%}: {held})"
            )
    return lines


def transactions(tsv: Path | None, runs: list[Run]) -> list[str]:
    if tsv is None or not tsv.exists():
        return []
    counts = [int(x) for x in tsv.read_text().split()]
    requests = sum(r.requests for r in runs if r.server == "postgres")
    return [
        f"- PostgreSQL transactions committed while the postgres server was loaded: "
        f"{sum(counts)} over {len(counts)} rounds ({', '.join(map(str, counts))}), for "
        f"{requests:,} requests answered"
    ]


def publishes(tsv: Path) -> list[str]:
    by: dict[str, list[tuple[int, float]]] = {}
    for line in tsv.read_text().splitlines():
        if line.strip():
            engine, size, took = line.split("\t")
            by.setdefault(engine, []).append((int(size), float(took)))
    lines = []
    for engine, runs in by.items():
        size = statistics.median(s for s, _ in runs) / (1 << 20)
        times = [t for _, t in runs]
        took = statistics.median(times)
        lines.append(
            f"- publish of a {size:.0f} MiB bundle on {engine}: median {took:.2f} s of "
            f"{len(times)} ({', '.join(f'{t:.2f}' for t in times)}), {size / took:.0f} MiB/s"
        )
    return lines


def markdown(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)]
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path)
    p.add_argument("publishes", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--binary", default="feather")
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--transactions", type=Path, help="PostgreSQL commits during each round")
    a = p.parse_args(argv)
    runs = read_runs(a.runs)
    header = ["server", "model", "conns", "req/s", "req/s vs", "p50 ms", "p99 ms", "errors"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = len(os.sched_getaffinity(0))
    text = "\n".join(
        [
            "# Scale-out figures",
            "",
            f"- date: {when}",
            f"- machine: {platform.machine()}, {cores} cores (nproc), {cpu_model()}",
            f"- feather: `{a.binary}`, 2 workers per model per server",
            f"- load: wrk, {a.threads} threads, {a.seconds} s a run, on the same cores as the "
            "servers, PostgreSQL, SeaweedFS and nginx",
            "- server (rounds): each row is the round with the median req/s; sqlite and "
            "postgres were both up and loaded in turn each round, and `vs` is the median of "
            "the rounds' ratios",
            "- sqlite: SQLite and a folder; postgres: PostgreSQL and SeaweedFS (S3); nginx-1: "
            "nginx in front of one replica on PostgreSQL + S3; nginx-2: the same nginx in front "
            "of two replicas on one PostgreSQL and one bucket",
            "",
            markdown(header, rows(runs)),
            "",
            *verdicts(runs),
            *transactions(a.transactions, runs),
            *publishes(a.publishes),
            "",
        ]
    )
    print(text)
    a.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
