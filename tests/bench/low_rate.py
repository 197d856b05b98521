"""The benchmark's low-rate scenarios: what a shipper costs when the application is quiet.

An application (rate_writer.py) appends JSON lines to a file at R lines/s, in writes of 10
lines, for S seconds. Each shipper follows the file from a fresh work directory, measured over
one window: from the writer's first write until every line has arrived and SETTLE_S more.

- logferry: the sidecar's defaults (parser json; LOGFERRY_COMPRESS=false, its default) to
  logferry-aggregator, discarding
- rsyslog: imfile (inotify) -> omfwd -> counting sink, when rsyslogd is installed
- fluent-bit: tail (offset DB in the work directory, parser json) -> out tcp json_lines ->
  counting sink, when fluent-bit is on PATH

Each starts, is ready (logferry: /metrics answers with the file watched; the others: alive),
gets START_QUIET_S, then the window opens. Nothing polls the shipper inside the window:
logferry's delivery is watched at the aggregator, the others' at the sink; logferry's /metrics
is read before and after. perf counts the total and about 30 common calls one by one (benchlib's
PER_CALL; all 350 syscall tracepoints would inflate the measured CPU).
"""
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchlib import (HERE, Aggregator, Child, CountingSink, SyscallCounter, free_port, proc_status, proc_usage,
                      read_line_with, scrape, task_totals, wait_for_counter)
from scenarios import RSYSLOG_CONF, drained_acks, sidecar_env

BATCH = 10       # lines per write of the application
SETTLE_S = 0.2   # after the last line arrived: the shipper's last acknowledgement and checkpoint
START_QUIET_S = 1.0  # after the shipper is ready, so its start-up work stays out of the window
DELIVERY_TIMEOUT_S = 60.0

FLUENT_BIT_CONF = """\
[SERVICE]
    Flush        1
    Log_Level    warn
    Parsers_File {work}/parsers.conf
[INPUT]
    Name             tail
    Tag              bench
    Path             {file}
    DB               {work}/offsets.db
    Parser           json
    Read_from_Head   true
[OUTPUT]
    Name    tcp
    Match   *
    Host    127.0.0.1
    Port    {port}
    Format  json_lines
"""
FLUENT_BIT_PARSERS = "[PARSER]\n    Name   json\n    Format json\n"


@dataclass
class Window:
    """One shipper at one rate, measured over one window."""
    shipper: str
    rate: float
    lines: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0                 # schedstat, summed over the threads
    cpu_stat_s: float = 0.0            # utime + stime of /proc/PID/stat (clock ticks)
    syscalls: int | None = None
    syscall_calls: dict = field(default_factory=dict)
    syscall_tool: str = ""
    wakeups: int = 0                   # voluntary + involuntary context switches
    checkpoint_saves: int | None = None
    peak_rss_kib: int = 0              # VmHWM at the end of the window
    writer_late_ms: float = 0.0        # the writer's latest write behind its schedule
    checked: str = ""
    ok: bool = False
    status: str = ""                   # "not installed", or why the run failed

    def figures(self) -> dict:
        """The per-line and per-second figures of the table."""
        per = (lambda x, n: x / n if x is not None and n else None)
        return {"us_per_line": per(self.cpu_s * 1e6, self.lines),
                "syscalls_per_line": per(self.syscalls, self.lines),
                "syscalls_per_append": per(self.syscalls, self.lines / BATCH),
                "wakeups_per_s": per(self.wakeups, self.seconds),
                "checkpoints_per_s": per(self.checkpoint_saves, self.seconds)}


class Logferry:
    """The sidecar, defaults but the parser, to a discarding aggregator."""
    name, binary = "logferry", None

    def __init__(self, work: Path, path: Path, lines: int, bins: dict):
        self.lines, self.bins = lines, bins
        self.agg = Aggregator(bins["aggregator"], work / "data", discard=True, log=work / "aggregator.log")
        env = sidecar_env(path, self.agg.port, "json", work / "ckpt", compress=False)
        self.http_port = free_port()
        env["LOGFERRY_HTTP_ADDR"] = f"127.0.0.1:{self.http_port}"
        self.log_path = work / "logferry.log"
        self.log = open(self.log_path, "wb")
        self.child = Child([str(bins["logferry"])], env=env, stderr=self.log)
        self.pid = self.child.pid

    def ready(self) -> None:
        wait_for_counter(self.http_port, "logferry_", "files_watched", 1, 30.0)  # /metrics answers

    def checkpoint_saves(self):
        return scrape(self.http_port, "logferry_").get("checkpoint_saves")

    def wait_delivered(self, timeout: float) -> None:
        self.agg.wait_for_entries(self.lines, timeout, poll=0.05)

    def finish(self) -> tuple:
        """(every line once, how it was checked); stops the processes."""
        wait_for_counter(self.http_port, "logferry_", "entries_acked", self.lines, 30.0)
        code = self.child.stop()
        self.log.close()
        metrics = self.agg.metrics()
        agg_code = self.agg.stop()
        acked = drained_acks(self.log_path)
        ok = (code == 0 and agg_code == 0 and acked == self.lines and metrics.get("entries_stored") == self.lines
              and metrics.get("duplicates_dropped") == 0)
        return ok, (f"sidecar entries_acked={acked}, aggregator entries_stored={metrics.get('entries_stored')}, "
                    f"duplicates={metrics.get('duplicates_dropped')}, exit codes {code}/{agg_code}")

    def close(self) -> None:
        self.child.stop()
        self.log.close()
        self.agg.stop()


class ToSink:
    """A shipper that forwards newline-delimited text to the counting sink."""
    name, binary = "", ""

    def __init__(self, work: Path, path: Path, lines: int, bins: dict):
        self.lines, self.got = lines, 0
        self.sink = CountingSink(lines)
        self.log = open(work / f"{self.name}.log", "wb")
        self.child = Child(self.command(work, path, self.sink.port), stdout=self.log, stderr=self.log)
        self.pid = self.child.pid

    def command(self, work: Path, path: Path, port: int) -> list:
        raise NotImplementedError

    def ready(self) -> None:
        time.sleep(0.1)
        if self.child.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start-up (see its log in the work directory)")

    def checkpoint_saves(self):
        return None

    def wait_delivered(self, timeout: float) -> None:
        self.got = self.sink.wait_done(timeout)[0]

    def finish(self) -> tuple:
        code = self.child.stop()
        self.close()
        return self.got == self.lines, f"sink counted {self.got} lines, exit code {code}"

    def close(self) -> None:
        self.child.stop()
        self.log.close()
        self.sink.stop()


class Rsyslog(ToSink):
    name, binary = "rsyslog", "rsyslogd"

    def command(self, work: Path, path: Path, port: int) -> list:
        conf = work / "rsyslog.conf"
        conf.write_text(RSYSLOG_CONF.format(work=work, port=port, file=path))
        return ["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")]


class FluentBit(ToSink):
    name, binary = "fluent-bit", "fluent-bit"

    def command(self, work: Path, path: Path, port: int) -> list:
        (work / "parsers.conf").write_text(FLUENT_BIT_PARSERS)
        conf = work / "fluent-bit.conf"
        conf.write_text(FLUENT_BIT_CONF.format(work=work, port=port, file=path))
        return ["fluent-bit", "-c", str(conf)]


SHIPPERS = (Logferry, Rsyslog, FluentBit)


def start_writer(path: Path, rate: float, seconds: float) -> Child:
    """rate_writer.py with its lines generated, waiting for the go."""
    writer = Child(["python3", str(HERE / "rate_writer.py"), "--file", str(path), "--rate", str(rate),
                    "--seconds", str(seconds), "--batch", str(BATCH)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    read_line_with(writer.popen.stdout, "ready", 120.0)
    return writer


def measure(cls, rate: float, seconds: float, bins: dict, work: Path, tool: str) -> Window:
    """One window of shipper `cls` at `rate`; system calls counted with `tool` (perf|strace|none)."""
    w = Window(cls.name, rate)
    if cls.binary and not shutil.which(cls.binary):
        w.status = "not installed"
        return w
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    app_log = work / "app.log"
    app_log.write_bytes(b"")  # exists, empty, before the shipper starts
    w.lines = max(1, round(rate * seconds / BATCH)) * BATCH
    ship = cls(work, app_log, w.lines, bins)
    counter = None
    try:
        ship.ready()
        time.sleep(START_QUIET_S)
        writer = start_writer(app_log, rate, seconds)
        saves = ship.checkpoint_saves()
        counter = SyscallCounter(tool, ship.pid, work / f"{tool}.out")
        counter.enable()
        t0, (ns0, sw0), stat0 = time.monotonic(), task_totals(ship.pid), proc_usage(ship.pid).cpu_s
        writer.popen.stdin.write(b"go\n")
        writer.popen.stdin.flush()
        w.writer_late_ms = float(read_line_with(writer.popen.stdout, "done ", seconds + 120.0).split()[2])
        writer.reap()
        ship.wait_delivered(DELIVERY_TIMEOUT_S)
        time.sleep(SETTLE_S)
        t1, (ns1, sw1), stat1 = time.monotonic(), task_totals(ship.pid), proc_usage(ship.pid).cpu_s
        counter.disable()
        w.seconds, w.cpu_s, w.cpu_stat_s, w.wakeups = t1 - t0, (ns1 - ns0) / 1e9, stat1 - stat0, sw1 - sw0
        w.peak_rss_kib = proc_status(ship.pid).get("VmHWM", 0)
        if saves is not None:
            w.checkpoint_saves = ship.checkpoint_saves() - saves
        w.ok, w.checked = ship.finish()
    except (RuntimeError, OSError, ValueError) as e:
        w.status = f"failed: {e}"
        ship.close()
    counts = counter.result() if counter else None
    if counts:
        w.syscalls, w.syscall_calls, w.syscall_tool = counts[0], counts[1], tool
    return w


def run_low_rate(rates: list, seconds: float, bins: dict, work: Path, repeat: int, tool: str = "auto",
                 report=print) -> list:
    """Every shipper at every rate, `repeat` times interleaved; one summary per (rate, shipper).

    tool auto: perf when it is on PATH; when it fails or is missing, strace in an extra run
    per window (CPU and wake-ups still come from the run without it)."""
    main_tool = "perf" if tool in ("auto", "perf") and shutil.which("perf") else "none"
    runs = {}
    for rep in range(repeat):
        for rate in rates:
            for cls in SHIPPERS:
                w = measure(cls, rate, seconds, bins, work / f"{cls.name}-{rate:g}", main_tool)
                if w.syscalls is None and not w.status and tool in ("auto", "strace") and shutil.which("strace"):
                    extra = measure(cls, rate, seconds, bins, work / f"{cls.name}-{rate:g}", "strace")
                    w.syscalls, w.syscall_calls = extra.syscalls, extra.syscall_calls
                    w.syscall_tool = "strace, extra run" if extra.syscalls is not None else ""
                runs.setdefault((rate, cls.name), []).append(w)
                report(f"[{rep + 1}/{repeat}] low rate {rate:g}/s {cls.name}: " + describe(w))
    return [summarize(ws) for ws in runs.values()]


def describe(w: Window) -> str:
    if w.status:
        return w.status
    f = w.figures()
    return (f"{w.cpu_s:.3f} CPU-s in {w.seconds:.1f} s (writer late {w.writer_late_ms:.1f} ms), "
            f"{f['us_per_line']:.1f} us/line, {fmt(f['syscalls_per_line'])} syscalls/line, "
            f"{f['wakeups_per_s']:.1f} wake-ups/s, {'ok' if w.ok else 'FAILED: ' + w.checked}")


def summarize(ws: list) -> dict:
    """The repeat with the median CPU, whole (its breakdown stays consistent), plus the range."""
    done = sorted((w for w in ws if not w.status), key=lambda w: w.cpu_s)
    pick = done[(len(done) - 1) // 2] if done else ws[0]
    out = asdict(pick) | pick.figures()
    us = [w.figures()["us_per_line"] for w in done]
    out.update(repeats=len(ws), all_ok=bool(done) and len(done) == len(ws) and all(w.ok for w in done),
               us_per_line_range=[min(us), max(us)] if us else None,
               cpu_s_all=[round(w.cpu_s, 4) for w in ws])
    return out


# --- output -------------------------------------------------------------------


def fmt(x, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def table(rows: list) -> str:
    """The results.md table: one row per (rate, shipper)."""
    out = ["| lines/s | shipper | lines | window s | CPU-s (stat ticks) | CPU us per line | syscalls per line "
           "| syscalls per append | wake-ups/s | checkpoint writes/s | peak RSS MiB | every line once |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        head = f"| {r['rate']:g} | {r['shipper']} |"
        if r["status"]:
            out.append(head + f" {r['status']} |" + " - |" * 9)
            continue
        tool = "" if r["syscall_tool"] in ("perf", "") else f" ({r['syscall_tool']})"
        out.append(head + f" {r['lines']} | {r['seconds']:.1f} | {r['cpu_s']:.3f} ({r['cpu_stat_s']:.2f}) | "
                   f"{r['us_per_line']:.1f} | {fmt(r['syscalls_per_line'])}{tool} | "
                   f"{fmt(r['syscalls_per_append'], 1)} | "
                   f"{r['wakeups_per_s']:.1f} | {fmt(r['checkpoints_per_s'])} | {r['peak_rss_kib'] / 1024:.1f} | "
                   f"{'yes' if r['all_ok'] else 'NO: ' + r['checked']} |")
    return "\n".join(out)


def breakdown(rows: list, top: int = 8) -> str:
    """The most frequent system calls of each window (nonzero ones), with their count per line."""
    out = ["| lines/s | shipper | system calls in the window: count (per line), the most frequent first |",
           "| --- | --- | --- |"]
    for r in rows:
        calls = sorted(r["syscall_calls"].items(), key=lambda kv: -kv[1])[:top]
        if calls:
            text = ", ".join(f"{name} {n} ({n / r['lines']:.2f})" for name, n in calls)
            out.append(f"| {r['rate']:g} | {r['shipper']} | {text}; all {r['syscalls']} |")
    return "\n".join(out)


def markdown(low: dict) -> list:
    """The low-rate section of results.md, as lines."""
    m = low["meta"]
    return [f"Low rate: an application appends JSON lines at {', '.join(f'{r:g}' for r in m['rates'])} lines/s, "
            f"in writes of {BATCH} lines, for {m['seconds']:g} s; each shipper measured over that window and "
            f"until every line arrived (+{SETTLE_S:g} s), {m['repeat']} repeat(s), median CPU. logferry: defaults "
            f"(parser json, LOGFERRY_COMPRESS=false) to a discarding aggregator. CPU from schedstat, summed over "
            f"the threads (in brackets utime+stime of /proc/PID/stat, in clock ticks); system calls from "
            f"{m['syscall_counter']}; wake-ups are voluntary + involuntary context switches of every thread. "
            f"The writer's writes were at most {m['writer_late_ms']:.1f} ms behind schedule. "
            f"Sidecar built {m['logferry_built']}, {m.get('build', 'unknown build')}. "
            f"Load average before {m['loadavg_before']}, after {m['loadavg_after']}, {m['date']}.",
            "", table(low["rows"]), "", breakdown(low["rows"])]


def chart(rows: list, out_png: Path) -> bool:
    """CPU microseconds per line against lines/s, log-log, one line per shipper (gnuplot)."""
    shippers = [name for name in dict.fromkeys(r["shipper"] for r in rows)
                if any(r["shipper"] == name and not r["status"] for r in rows)]
    if not shutil.which("gnuplot") or not shippers:
        return False
    dat = out_png.with_suffix(".dat")
    with open(dat, "w") as f:
        for name in shippers:
            f.write(f"# {name}: lines/s, CPU us per line\n")
            for r in sorted((r for r in rows if r["shipper"] == name and not r["status"]), key=lambda r: r["rate"]):
                f.write(f"{r['rate']:g} {r['us_per_line']:.3f}\n")
            f.write("\n\n")
    plots = ", ".join(f'"{dat}" index {i} using 1:2 with linespoints lw 2 pt 7 title "{name}"'
                      for i, name in enumerate(shippers))
    script = f"""
set terminal pngcairo size 800,600 font ",10"
set output "{out_png}"
set title "CPU per line at low rates (lower is better)"
set logscale xy
set xlabel "lines/s written by the application (writes of {BATCH} lines)"
set ylabel "CPU microseconds per line"
set grid xtics ytics mxtics mytics
set key top right
plot {plots}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return True
