"""Fan-out benchmark: the workshop server against a plain websockets broadcast server.

For every N, runs ``bench.load`` twice in its own process (raw baseline, then workshop):
each starts its server in a further process, opens N participants plus a facilitator, and
runs the paced, burst, voting and reconnect-storm workloads. Prints a table with ratios
workshop/raw and ends with one summary line for the largest N.

    python -m bench.run [--n 10,100,1000] [--quick] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = ("paced", "burst", "voting")


def run_one(target: str, n: int, quick: bool, timeout: float) -> dict:
    argv = [sys.executable, "-m", "bench.load", "--target", target, "--n", str(n)]
    if quick:
        argv.append("--quick")
    print(f"-- {target} N={n}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"   {target} N={n}: timed out after {timeout:.0f} s", file=sys.stderr)
        return {"target": target, "n": n, "failed": "timeout"}
    finally:
        if proc.poll() is None:  # the whole group: the load process and its server
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0 or not out.strip():
        return {"target": target, "n": n, "failed": f"exit {proc.returncode}"}
    return json.loads(out.strip().splitlines()[-1])


def get(res: dict, *path: str) -> float:
    cur: object = res
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return math.nan
        cur = cur[key]
    return float(cur) if isinstance(cur, int | float) else math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def fmt(x: float, digits: int = 1) -> str:
    if math.isnan(x):
        return "-"
    if abs(x) >= 10000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def table(results: dict[int, dict[str, dict]]) -> str:
    lines = [
        "| N | workload | metric | workshop | raw | workshop/raw |",
        "| ---: | --- | --- | ---: | ---: | ---: |",
    ]

    def row(n: int, load: str, metric: str, path: tuple[str, ...], digits: int = 1, scale: float = 1.0) -> None:
        w = get(results[n]["workshop"], *path) * scale
        r = get(results[n]["raw"], *path) * scale
        lines.append(f"| {n} | {load} | {metric} | {fmt(w, digits)} | {fmt(r, digits)} | {fmt(ratio(w, r), 2)} |")

    for n in sorted(results):
        for load in WORKLOADS:
            row(n, load, "fan-out p50 ms", (load, "p50_ms"), 2)
            row(n, load, "fan-out p99 ms", (load, "p99_ms"), 2)
            row(n, load, "fan-out max ms", (load, "max_ms"), 2)
            row(n, load, "server CPU us/delivery", (load, "cpu_us_per_delivery"), 2)
            row(n, load, "deliveries/s", (load, "deliveries_per_s"), 0)
            row(n, load, "wall s (send to last delivery)", (load, "seconds"), 2)
            row(n, load, "server CPU s", (load, "cpu_s"), 2)
            row(n, load, "client-process CPU s", (load, "client_cpu_s"), 2)
            row(n, load, "fully delivered / sent", (load, "fully_delivered"), 0)
        row(n, "burst", "submissions acked/s (sender saw ack)", ("burst", "acks_per_s"), 0)
        row(n, "burst", "submissions published/s (first receipt)", ("burst", "published_per_s"), 0)
        row(n, "join", "joins/s", ("join", "joins_per_s"), 0)
        row(n, "idle", "server RSS MiB after join", ("join", "rss_after"), 1, 1 / 2**20)
        row(n, "idle", "RSS KiB per participant", ("join", "rss_per_participant"), 1, 1 / 1024)
        row(n, "all", "server peak RSS MiB", ("rss_peak",), 1, 1 / 2**20)
        row(n, "storm", "server ready s", ("storm", "restart_s"), 2)
        row(n, "storm", "all resumed s (from kill)", ("storm", "all_resumed_s"), 2)
        row(n, "storm", "resumed / clients", ("storm", "resumed"), 0)
        row(n, "storm", "at final seq / clients", ("storm", "at_final_seq"), 0)
        row(n, "storm", "seq gaps", ("storm", "gaps"), 0)
        row(n, "all", "unexpected drops", ("unexpected_drops",), 0)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", default=None, help="participant counts, comma-separated (default 10,100,1000)")
    parser.add_argument("--quick", action="store_true", help="N=10,100 and shorter workloads (under 2 minutes)")
    parser.add_argument("--json", type=Path, default=None, help="also write every raw result here")
    args = parser.parse_args()
    ns = [int(x) for x in (args.n or ("10,100" if args.quick else "10,100,1000")).split(",")]
    t0 = time.monotonic()
    results: dict[int, dict[str, dict]] = {}
    for n in ns:
        timeout = (40 if args.quick else 120) + n * (0.1 if args.quick else 0.6)
        results[n] = {t: run_one(t, n, args.quick, timeout) for t in ("raw", "workshop")}
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    print(table(results))
    for n in ns:
        for t, res in results[n].items():
            extra = {k: res[k] for k in ("failed", "errors") if res.get(k)}
            if extra:
                print(f"note: {t} N={n}: {extra}")
    print(f"(total {time.monotonic() - t0:.0f} s)")
    n = max(ns)
    w, r = results[n]["workshop"], results[n]["raw"]
    cpu = ratio(get(w, "paced", "cpu_us_per_delivery"), get(r, "paced", "cpu_us_per_delivery"))
    p99 = ratio(get(w, "paced", "p99_ms"), get(r, "paced", "p99_ms"))
    burst = ratio(get(w, "burst", "deliveries_per_s"), get(r, "burst", "deliveries_per_s"))
    print(f"ratio cpu_per_delivery={cpu:.2f} p99_fanout={p99:.2f} burst_throughput={burst:.2f} (workshop/raw, N={n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
