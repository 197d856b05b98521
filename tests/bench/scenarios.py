"""The benchmark's scenarios: each runs one sender from a file to a receiver on
127.0.0.1 and returns a measured, verified Result.

- cat | socat      -> counting sink        (the upper bound of "read a file, send it")
- rsyslog imfile -> omfwd -> counting sink (a peer, when rsyslogd is installed)
- logferry         -> aggregator, discard   (acks without storing)
- logferry         -> aggregator, storing ndjson (fsync always)
- N logferry       -> one storing aggregator (fan-in)
- aggregator relay from disk -> discarding aggregator (a full store relayed after a restart)
- logferry idle    (RSS and CPU with nothing to read)
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from benchlib import Aggregator, Child, CountingSink, Result, free_port, proc_pss_kib, proc_status, wait_for_counter


def _timeout(lines: int) -> float:
    return 120.0 + lines / 50_000


def run_socat(kind: str, path: Path, lines: int) -> Result:
    sink = CountingSink(lines)
    t0 = time.monotonic()
    cat = Child(["cat", str(path)], stdout=subprocess.PIPE)
    socat = Child(["socat", "-u", "-", f"TCP:127.0.0.1:{sink.port}"], stdin=cat.popen.stdout)
    cat.popen.stdout.close()
    got, nbytes, t_end = sink.wait_done(_timeout(lines), senders=(cat, socat))
    cat.reap()
    socat.reap()
    sink.stop()
    size = path.stat().st_size
    return Result(f"cat+socat {kind}", lines, size, t_end - t0,
                  cpu={"sender": cat.usage.cpu_s + socat.usage.cpu_s},
                  rss_kib={"sender": max(cat.usage.peak_rss_kib, socat.usage.peak_rss_kib)},
                  checked=f"sink counted {got} lines, {nbytes} bytes", ok=got == lines and nbytes == size)


RSYSLOG_CONF = """\
global(workDirectory="{work}")
module(load="imfile" mode="inotify")
template(name="raw" type="string" string="%msg%\\n")
ruleset(name="fwd") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" template="raw")
}}
input(type="imfile" file="{file}" tag="bench" ruleset="fwd" freshStartTail="off")
"""


def run_rsyslog(kind: str, path: Path, lines: int, work: Path) -> Result:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sink = CountingSink(lines)
    conf = work / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(work=work, port=sink.port, file=path))
    t0 = time.monotonic()
    rsyslog = Child(["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")])
    got, nbytes, t_end = sink.wait_done(_timeout(lines))
    usage = rsyslog.usage_now()
    rsyslog.stop()
    sink.stop()
    return Result(f"rsyslog {kind}", lines, path.stat().st_size, t_end - t0,
                  cpu={"rsyslogd": usage.cpu_s}, rss_kib={"rsyslogd": usage.peak_rss_kib},
                  file_kib={"rsyslogd": usage.file_kib},
                  checked=f"sink counted {got} lines", ok=got == lines)


def sidecar_env(path: Path, output_port: int, parser: str, checkpoints: Path, compress: bool = True) -> dict:
    """The sidecar's defaults (acks, checkpoints every second) except a short drain wait and
    compression: the benchmark turns zstd on explicitly (LOGFERRY_COMPRESS=true) unless
    compress=False, although the sidecar's own default is LOGFERRY_COMPRESS=false. The scenarios
    without "no-zstd" in their name (and fan-in, relay and idle) measure with zstd on, as every
    earlier result did, so that the figures stay comparable (docs/performance.md)."""
    checkpoints.mkdir(parents=True, exist_ok=True)
    return {"LOGFERRY_FILES": str(path), "LOGFERRY_OUTPUT": f"tcp://127.0.0.1:{output_port}",
            "LOGFERRY_PARSER": parser, "LOGFERRY_CHECKPOINT_DIR": str(checkpoints),
            "LOGFERRY_DRAIN_QUIET": "100ms", "LOGFERRY_COMPRESS": "true" if compress else "false"}


def drained_acks(log: Path) -> int:
    """entries_acked of the sidecar's `drained: every line acknowledged` line (-1 when missing)."""
    for line in log.read_text(errors="replace").splitlines():
        if "drained: every line acknowledged" in line:
            return int(json.loads(line).get("entries_acked", -1))
    return -1


def count_store(data_dir: Path) -> int:
    n = 0
    for seg in data_dir.rglob("*.ndjson"):
        with open(seg, "rb") as f:
            while chunk := f.read(1 << 22):
                n += chunk.count(b"\n")
    return n


def spot_check(data_dir: Path, path: Path, kind: str, samples: int = 200) -> str:
    """Compares evenly spaced stored entries with the input line at their offset; '' when all match."""
    segments = sorted(data_dir.rglob("*.ndjson"))
    with open(path, "rb") as src:
        for seg in segments:
            with open(seg, "rb") as f:
                stored = f.readlines()
            step = max(1, len(stored) // max(1, samples // len(segments)))
            for raw in stored[::step]:
                e = json.loads(raw)
                src.seek(e["offset"])
                line = src.readline().rstrip(b"\n").decode()
                if kind == "plain" and e.get("body") != line:
                    return f"offset {e['offset']}: stored body differs from the input line"
                if kind == "json" and e.get("attributes", {}).get("req") != json.loads(line)["req"]:
                    return f"offset {e['offset']}: stored req differs from the input line"
    return ""


def run_logferry(kind: str, path: Path, lines: int, bins: dict, work: Path, store: bool,
                 compress: bool = True) -> Result:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    agg = Aggregator(bins["aggregator"], work / "data", discard=not store, log=work / "aggregator.log")
    log = work / "logferry.log"
    env = sidecar_env(path, agg.port, kind, work / "ckpt", compress)
    http_port = free_port()
    env["LOGFERRY_HTTP_ADDR"] = f"127.0.0.1:{http_port}"
    with open(log, "wb") as err:
        t0 = time.monotonic()
        side = Child([str(bins["logferry"])], env=env, stderr=err)
        # Measured until the sidecar has the last line acknowledged.
        t_end = wait_for_counter(http_port, "logferry_", "entries_acked", lines, _timeout(lines))
        side_u, agg_u = side.usage_now(), agg.child.usage_now()
        code = side.stop()
    metrics = agg.metrics()
    agg_code = agg.stop()
    acked = drained_acks(log)
    checks = [f"aggregator entries_stored={metrics.get('entries_stored')}",
              f"duplicates={metrics.get('duplicates_dropped')}", f"sidecar entries_acked={acked}",
              f"exit codes {code}/{agg_code}"]
    ok = code == 0 and agg_code == 0 and acked == lines and metrics.get("entries_stored") == lines
    if store:
        stored = count_store(work / "data")
        problem = spot_check(work / "data", path, kind)
        checks += [f"store lines={stored}", "spot-check " + (problem or "ok")]
        ok = ok and stored == lines and not problem
    shutil.rmtree(work / "data", ignore_errors=True)
    name = f"logferry {kind} {'store' if store else 'discard'}{'' if compress else ' no-zstd'}"
    return Result(name, lines, path.stat().st_size, t_end - t0,
                  cpu={"logferry": side_u.cpu_s, "aggregator": agg_u.cpu_s},
                  rss_kib={"logferry": side_u.peak_rss_kib, "aggregator": agg_u.peak_rss_kib},
                  file_kib={"logferry": side_u.file_kib, "aggregator": agg_u.file_kib},
                  checked=", ".join(checks), ok=ok)


def run_relay(kind: str, path: Path, lines: int, bins: dict, work: Path) -> Result:
    """The aggregator's relay reading a full store from disk (store_and_forward after a restart):
    a sidecar fills the store first (not measured), then the aggregator restarts with
    LOGFERRY_AGGREGATOR_RELAY pointing at a second, discarding aggregator (native protocol, the
    cheapest downstream); measured until the downstream counted every line."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    fill = Aggregator(bins["aggregator"], work / "data", discard=False, log=work / "fill.log")
    env = sidecar_env(path, fill.port, kind, work / "ckpt", True)
    http_port = free_port()
    env["LOGFERRY_HTTP_ADDR"] = f"127.0.0.1:{http_port}"
    with open(work / "logferry.log", "wb") as err:
        side = Child([str(bins["logferry"])], env=env, stderr=err)
        wait_for_counter(http_port, "logferry_", "entries_acked", lines, _timeout(lines))
        side.stop()
    fill.stop()
    down = Aggregator(bins["aggregator"], work / "down", discard=True, log=work / "down.log")
    t0 = time.monotonic()
    relay = Aggregator(bins["aggregator"], work / "data", discard=False, log=work / "relay.log",
                       extra_env={"LOGFERRY_AGGREGATOR_RELAY": f"tcp://127.0.0.1:{down.port}"})
    t_end = down.wait_for_entries(lines, _timeout(lines))
    relay_u = relay.child.usage_now()
    relayed = relay.metrics()
    down_metrics = down.metrics()
    codes = (relay.stop(), down.stop())
    got = down_metrics.get("entries_stored")
    ok = codes == (0, 0) and got == lines and relayed.get("relay_lag_entries", 0) == 0
    checks = f"downstream entries={got}, relay lag={relayed.get('relay_lag_entries')}, exit codes {codes}"
    shutil.rmtree(work, ignore_errors=True)
    return Result(f"aggregator relay from disk, {kind}", lines, path.stat().st_size, t_end - t0,
                  cpu={"aggregator": relay_u.cpu_s}, rss_kib={"aggregator": relay_u.peak_rss_kib},
                  file_kib={"aggregator": relay_u.file_kib}, checked=checks, ok=ok)


def run_fanin(files: list, lines_each: int, bins: dict, work: Path) -> Result:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    agg = Aggregator(bins["aggregator"], work / "data", discard=False, log=work / "aggregator.log")
    total = lines_each * len(files)
    logs = []
    t0 = time.monotonic()
    sidecars = []
    for i, f in enumerate(files):
        logs.append(open(work / f"logferry-{i}.log", "wb"))
        sidecars.append(Child([str(bins["logferry"])], env=sidecar_env(f, agg.port, "plain", work / f"ckpt-{i}"),
                              stderr=logs[-1]))
    t_end = agg.wait_for_entries(total, _timeout(total) + 2 * len(files))
    agg_u = agg.child.usage_now()
    side_us = [s.usage_now() for s in sidecars]
    for s in sidecars:
        os.kill(s.pid, 15)
    codes = [s.reap() for s in sidecars]
    for lf in logs:
        lf.close()
    metrics = agg.metrics()
    agg_code = agg.stop()
    acked = sum(drained_acks(work / f"logferry-{i}.log") for i in range(len(files)))
    stored = count_store(work / "data")
    shutil.rmtree(work / "data", ignore_errors=True)
    ok = all(c == 0 for c in codes) and agg_code == 0 and acked == total and stored == total
    return Result(f"aggregator store, {len(files)} sidecars", total, sum(f.stat().st_size for f in files),
                  t_end - t0,
                  cpu={"aggregator": agg_u.cpu_s, "logferry": sum(u.cpu_s for u in side_us)},
                  rss_kib={"aggregator": agg_u.peak_rss_kib, "logferry": max(u.peak_rss_kib for u in side_us)},
                  file_kib={"aggregator": agg_u.file_kib, "logferry": max(u.file_kib for u in side_us)},
                  checked=f"store lines={stored}, sidecars acked={acked}, "
                          f"duplicates={metrics.get('duplicates_dropped')}, aggregator exit {agg_code}", ok=ok)


def run_idle(bins: dict, work: Path, seconds: float = 3.0) -> dict:
    """RSS and CPU of a sidecar watching an empty file, after start-up."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    empty = work / "empty.log"
    empty.write_text("")
    agg = Aggregator(bins["aggregator"], work / "data", discard=True, log=work / "aggregator.log")
    side = Child([str(bins["logferry"])], env=sidecar_env(empty, agg.port, "plain", work / "ckpt"))
    time.sleep(1.0)
    before = side.usage_now().cpu_s
    time.sleep(seconds)
    after = side.usage_now().cpu_s
    st, pss = proc_status(side.pid), proc_pss_kib(side.pid)
    side.stop()
    agg.stop()
    return {"rss_kib": st.get("VmRSS", 0), "anon_kib": st.get("RssAnon", 0), "file_kib": st.get("RssFile", 0),
            "pss_kib": pss, "cpu_s": round(after - before, 3), "seconds": seconds}


def run_enrich_bench(binary: Path, lines: int) -> dict:
    """Node mode's Pod metadata per line, from logferry_enrich_bench: {without_ns, with_ns, lookups, lines}."""
    out = subprocess.run([str(binary), str(lines)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"without ([\d.]+) ns/line, with ([\d.]+) ns/line, \+(-?[\d.]+) ns/line, (\d+) lookups for (\d+) lines",
                  out)
    if not m:
        return {}
    return {"without_ns": float(m.group(1)), "with_ns": float(m.group(2)), "lookups": int(m.group(4)),
            "lines": int(m.group(5))}


def run_parser_bench(binary: Path, lines: int) -> list:
    """Per-parser throughput from logferry_parser_bench: [{parser, lines_per_s, mb_per_s, reused_lines_per_s}]."""
    out = subprocess.run([str(binary), str(lines)], capture_output=True, text=True, check=True).stdout
    rows = []
    for m in re.finditer(r"^(\S+)\s+(\d+) lines/s\s+([\d.]+) MB/s\s+parse\(\) only:\s+(\d+) lines/s", out, re.M):
        rows.append({"parser": m.group(1), "lines_per_s": int(m.group(2)), "mb_per_s": float(m.group(3)),
                     "reused_lines_per_s": int(m.group(4))})
    return rows
