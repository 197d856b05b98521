#!/usr/bin/env python3
"""logferry's end-to-end benchmark (issue 8). Run it through tests/bench/run.sh.

Builds Release binaries if needed, generates deterministic inputs, runs every
scenario --repeat times (interleaved, so machine load hits all alike), checks
that every line arrived once, and writes results/results.json, results/results.md
and results/chart.png (gnuplot, when installed). Then the low-rate scenarios
(low_rate.py): an application appending at --rates lines/s for --rate-seconds,
charted in results/low_rate.png. --low-rate-only runs just those and keeps the
rest of results.json and results.md.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import low_rate
import scenarios
from benchlib import HERE, make_input

REPO = HERE.parent.parent


def pin(bins: dict, dest: Path) -> dict:
    """Copies of the binaries (modification times kept) in dest, so that a rebuild of the build
    directory during the run cannot mix two builds in one run."""
    dest.mkdir(parents=True, exist_ok=True)
    return {name: Path(shutil.copy2(path, dest / path.name)) if path.exists() else path
            for name, path in bins.items()}


def build(build_dir: Path, no_build: bool = False) -> dict:
    bins = {"logferry": build_dir / "logferry", "aggregator": build_dir / "logferry-aggregator",
            "parser_bench": build_dir / "tests" / "logferry_parser_bench",
            "enrich_bench": build_dir / "tests" / "logferry_enrich_bench"}
    if no_build:
        for name in ("logferry", "aggregator"):
            if not bins[name].exists():
                sys.exit(f"--no-build: {bins[name]} is missing")
        return bins
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"], check=True)
    subprocess.run(["cmake", "--build", str(build_dir), "-j2", "--target", "logferry", "logferry-aggregator",
                    "logferry_parser_bench", "logferry_enrich_bench"], check=True)
    return bins


def summarize(runs: list) -> dict:
    """Median and range of each measure over the repeats of one scenario."""
    def stat(values):
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}
    first = runs[0]
    out = {"lines": first.lines, "bytes": first.nbytes, "repeats": len(runs), "all_ok": all(r.ok for r in runs),
           "wall_s": stat([r.wall_s for r in runs]), "lines_per_s": stat([r.lines_per_s for r in runs]),
           "mib_per_s": stat([r.mib_per_s for r in runs]), "cpu_s": {}, "lines_per_cpu_s": {}, "peak_rss_mib": {},
           "checked": [r.checked for r in runs]}
    for proc in first.cpu:
        out["cpu_s"][proc] = stat([r.cpu[proc] for r in runs])
        out["lines_per_cpu_s"][proc] = stat([r.lines_per_cpu_s(proc) for r in runs])
    for proc in first.rss_kib:
        out["peak_rss_mib"][proc] = stat([r.rss_kib[proc] / 1024 for r in runs])
    out["file_rss_mib"] = {p: stat([r.file_kib[p] / 1024 for r in runs]) for p in first.file_kib}
    return out


def fmt_range(s: dict, scale: float = 1.0, digits: int = 2) -> str:
    return f"{s['median'] / scale:.{digits}f} ({s['min'] / scale:.{digits}f}-{s['max'] / scale:.{digits}f})"


def table(summary: dict) -> str:
    rows = ["| scenario | lines/s (M) | MiB/s | CPU s per process | lines per CPU-s (M) | peak RSS MiB "
            "| of it libraries MiB | every line once |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, s in summary.items():
        cpu = ", ".join(f"{p} {v['median']:.2f}" for p, v in s["cpu_s"].items())
        per_cpu = ", ".join(f"{p} {fmt_range(v, 1e6)}" for p, v in s["lines_per_cpu_s"].items())
        rss = ", ".join(f"{p} {v['median']:.1f}" for p, v in s["peak_rss_mib"].items())
        libs = ", ".join(f"{p} {v['median']:.1f}" for p, v in s["file_rss_mib"].items()) or "-"
        rows.append(f"| {name} | {fmt_range(s['lines_per_s'], 1e6)} | {s['mib_per_s']['median']:.0f} | {cpu} | "
                    f"{per_cpu} | {rss} | {libs} | {'yes' if s['all_ok'] else 'NO'} |")
    return "\n".join(rows)


def markdown(data: dict) -> str:
    """results.md from the contents of results.json."""
    meta, idle, parsers, md = data["meta"], data.get("idle"), data.get("parsers"), []
    if data.get("scenarios"):
        md += [f"{meta['lines']} lines per file, {meta['repeat']} repeats, {meta['cpus']} CPUs, "
               f"load average at the end {meta['loadavg_at_end']}, {meta['date']}", "", table(data["scenarios"]), ""]
    if idle:
        md.append(f"Idle sidecar: RSS {idle['rss_kib'] / 1024:.1f} MiB (anonymous {idle['anon_kib'] / 1024:.1f}, "
                  f"shared-library and binary pages {idle['file_kib'] / 1024:.1f}; PSS {idle['pss_kib'] / 1024:.1f}), "
                  f"CPU {idle['cpu_s']} s in {idle['seconds']} s.")
    if parsers:
        md += ["", "| parser | lines/s (M), as the batcher drives it | MB/s | parse() alone, lines/s (M) |", "| --- | --- | --- | --- |"]
        md += [f"| {p['parser']} | {p['lines_per_s'] / 1e6:.2f} | {p['mb_per_s']:.0f} | "
               f"{p['reused_lines_per_s'] / 1e6:.2f} |" for p in parsers]
    if data.get("low_rate"):
        md += [""] * bool(md) + low_rate.markdown(data["low_rate"])
    return "\n".join(md) + "\n"


def build_flags(build_dir: Path) -> str:
    """The build type and its compiler flags, from the build directory's CMakeCache.txt (no paths)."""
    try:
        cache = (build_dir / "CMakeCache.txt").read_text()
    except OSError:
        return "unknown"
    kind = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M)
    kind = kind.group(1) if kind else ""
    flags = re.search(rf"^CMAKE_CXX_FLAGS_{kind.upper()}:\w+=(.*)$", cache, re.M) if kind else None
    return f"{kind or 'default'} ({flags.group(1) if flags else 'no flags'})"


def run_low_rate(args, bins: dict) -> dict:
    """The low-rate scenarios, as results.json's "low_rate"."""
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    before = [round(x, 2) for x in os.getloadavg()]
    rows = low_rate.run_low_rate(rates, args.rate_seconds, bins, args.work_dir / "low-rate", args.repeat,
                                 args.syscall_counter, report=lambda text: print(text, flush=True))
    tools = sorted({r["syscall_tool"] for r in rows if r["syscall_tool"]}) or ["nothing (no perf, no strace)"]
    meta = {"rates": rates, "seconds": args.rate_seconds, "repeat": args.repeat, "cpus": os.cpu_count(),
            "loadavg_before": before, "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "syscall_counter": " and ".join(tools), "build": build_flags(args.build_dir),
            "logferry_built": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(bins["logferry"].stat().st_mtime)),
            "writer_late_ms": max([r["writer_late_ms"] for r in rows] + [0.0]),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    return {"meta": meta, "rows": rows}


def chart(summary: dict, out_png: Path) -> bool:
    """Throughput and peak RSS side by side (medians, with the range as error bars)."""
    if not shutil.which("gnuplot"):
        return False
    dat = out_png.with_suffix(".dat")
    with open(dat, "w") as f:
        f.write("# scenario lines_s_med min max rss_med min max\n")
        for name, s in summary.items():
            lps = s["lines_per_s"]
            proc = next(iter(s["peak_rss_mib"]))
            rss = s["peak_rss_mib"][proc]
            label = f"{name} [{proc}]".replace('"', "'")
            f.write(f'"{label}" {lps["median"] / 1e6} {lps["min"] / 1e6} {lps["max"] / 1e6} '
                    f'{rss["median"]} {rss["min"]} {rss["max"]}\n')
    top_lps = max(s["lines_per_s"]["max"] for s in summary.values()) / 1e6
    top_rss = max(next(iter(s["peak_rss_mib"].values()))["max"] for s in summary.values())
    script = f"""
set terminal pngcairo size 1600,700 font ",10"
set output "{out_png}"
set multiplot layout 1,2 title "logferry benchmark (median, error bar = range over repeats)"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6 border -1
set xtics rotate by -40 left font ",9"
set bmargin 13
set rmargin 20
set grid ytics
set title "throughput (million lines/s)"
set yrange [0:{top_lps * 1.1}]
plot "{dat}" using 2:3:4:xtic(1) notitle lc rgb "#3070b0"
set title "peak RSS (MiB) of the process in brackets"
set yrange [0:{top_rss * 1.1}]
plot "{dat}" using 5:6:7:xtic(1) notitle lc rgb "#b05030"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=5_000_000, help="lines per input file (default 5000000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each scenario (default 3)")
    ap.add_argument("--sidecars", type=int, default=100, help="sidecars of the fan-in scenario (default 100)")
    ap.add_argument("--build-dir", type=Path, default=REPO / "build-bench")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "logferry-bench",
                    help="inputs (kept for reuse) and scratch space")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--only", default="", help="run only scenarios whose name contains this text")
    ap.add_argument("--logferry", type=Path, help="use this sidecar binary instead of the built one (A/B runs)")
    ap.add_argument("--replot", action="store_true", help="only redraw the charts from OUT/results.json")
    ap.add_argument("--no-build", action="store_true",
                    help="use the binaries already in --build-dir (copied to WORK_DIR/bin first)")
    ap.add_argument("--rates", default="10,100,1000", help="low-rate scenarios: lines/s (default 10,100,1000)")
    ap.add_argument("--rate-seconds", type=float, default=30.0, help="low-rate scenarios: seconds (default 30)")
    ap.add_argument("--low-rate-only", action="store_true",
                    help="run only the low-rate scenarios; keep the other results in OUT")
    ap.add_argument("--syscall-counter", choices=("auto", "perf", "strace", "none"), default="auto",
                    help="low-rate system calls: perf stat, else strace in an extra run (auto)")
    args = ap.parse_args()
    if args.replot:
        data = json.loads((args.out / "results.json").read_text())
        if data.get("scenarios"):
            chart(data["scenarios"], args.out / "chart.png")
        if data.get("low_rate"):
            low_rate.chart(data["low_rate"]["rows"], args.out / "low_rate.png")
        return 0

    bins = build(args.build_dir, args.no_build)
    if args.no_build:
        bins = pin(bins, args.work_dir / "bin")
    if args.logferry:
        bins["logferry"] = args.logferry.resolve()
    if args.low_rate_only:
        return main_low_rate_only(args, bins)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating inputs in {work} ...", flush=True)
    inputs = {k: make_input(work / f"{k}-{args.lines}.log", k, args.lines) for k in ("plain", "json")}
    each = max(1, args.lines // args.sidecars)
    fan_files = [make_input(work / f"fanin-{i}-{each}.log", "plain", each, seed=i) for i in range(args.sidecars)]

    plan = []
    for kind in ("plain", "json"):
        plan.append((f"cat+socat {kind}", lambda k=kind: scenarios.run_socat(k, inputs[k], args.lines)))
    if shutil.which("rsyslogd"):
        plan.append(("rsyslog plain", lambda: scenarios.run_rsyslog("plain", inputs["plain"], args.lines,
                                                                    work / "rsyslog")))
    for kind in ("plain", "json"):
        for store, compress in ((False, True), (False, False), (True, True)):
            name = f"logferry {kind} {'store' if store else 'discard'}{'' if compress else ' no-zstd'}"
            plan.append((name, lambda k=kind, s=store, c=compress: scenarios.run_logferry(
                k, inputs[k], args.lines, bins, work / "run", s, c)))
    for kind in ("plain", "json"):
        plan.append((f"aggregator relay from disk, {kind}",
                     lambda k=kind: scenarios.run_relay(k, inputs[k], args.lines, bins, work / "relay")))
    plan.append((f"aggregator store, {args.sidecars} sidecars",
                 lambda: scenarios.run_fanin(fan_files, each, bins, work / "fanin")))
    plan = [(n, f) for n, f in plan if args.only in n]

    runs = {}
    for rep in range(args.repeat):
        for name, fn in plan:
            print(f"[{rep + 1}/{args.repeat}] {name} ...", end=" ", flush=True)
            r = fn()
            runs.setdefault(name, []).append(r)
            print(f"{r.lines_per_s / 1e6:.2f} M lines/s, {r.wall_s:.2f} s, cpu {r.cpu}, "
                  f"{'ok' if r.ok else 'FAILED: ' + r.checked}", flush=True)
    summary = {name: summarize(rs) for name, rs in runs.items()}

    idle = scenarios.run_idle(bins, work / "idle") if not args.only else {}
    parsers = (scenarios.run_parser_bench(bins["parser_bench"], 200_000)
               if not args.only and bins["parser_bench"].exists() else [])
    low = run_low_rate(args, bins) if not args.only else {}
    enrich = (scenarios.run_enrich_bench(bins["enrich_bench"], 2_000_000)
              if (not args.only or "enrich" in args.only) and bins["enrich_bench"].exists() else {})
    if enrich:
        print(f"node-mode Pod metadata: {enrich['without_ns']:.1f} -> {enrich['with_ns']:.1f} ns/line, "
              f"{enrich['lookups']} lookups for {enrich['lines']} lines", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    meta = {"lines": args.lines, "repeat": args.repeat, "cpus": os.cpu_count(),
            "loadavg_at_end": [round(x, 2) for x in load], "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    data = {"meta": meta, "scenarios": summary, "idle": idle, "parsers": parsers}
    if enrich:
        data["enrichment"] = enrich
    if low:
        data["low_rate"] = low
    return write_results(args.out, data)


def main_low_rate_only(args, bins: dict) -> int:
    """--low-rate-only: the low-rate scenarios into OUT's results, the rest of them kept."""
    path = args.out / "results.json"
    data = json.loads(path.read_text()) if path.exists() else {"meta": {}}
    data["low_rate"] = run_low_rate(args, bins)
    return write_results(args.out, data, redraw=False)


def write_results(out: Path, data: dict, redraw: bool = True) -> int:
    """results.json, results.md and the charts (chart.png only when `redraw`); 0 when every line
    arrived once everywhere."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    md = markdown(data)
    (out / "results.md").write_text(md)
    print(md)
    summary, low = data.get("scenarios") or {}, data.get("low_rate")
    if redraw and summary and chart(summary, out / "chart.png"):
        print(f"chart: {out / 'chart.png'}")
    if low and low_rate.chart(low["rows"], out / "low_rate.png"):
        print(f"chart: {out / 'low_rate.png'}")
    low_ok = all(r["all_ok"] or r["status"] == "not installed" for r in (low or {}).get("rows", []))
    return 0 if all(s["all_ok"] for s in summary.values()) and low_ok else 1


if __name__ == "__main__":
    sys.exit(main())
