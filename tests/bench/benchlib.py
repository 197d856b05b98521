"""Helpers of the end-to-end benchmark: deterministic inputs, child processes
measured through /proc and wait4, system-call counts, the aggregator and the counting sink.

Python 3 standard library only. Nothing here knows about scenarios; see bench.py.
"""
import http.client
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = Path(__file__).resolve().parent

# --- inputs -------------------------------------------------------------------

_PATHS = ["/api/v1/orders", "/api/v1/users", "/api/v1/cart", "/healthz", "/api/v2/search"]
_USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
_LEVELS = ["info"] * 8 + ["warn", "error"]


def _fields(rng: random.Random, i: int) -> dict:
    return {
        "ts": f"2026-01-02T15:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}{rng.randrange(1000):03d}Z",
        "level": _LEVELS[rng.randrange(len(_LEVELS))],
        "path": f"{_PATHS[rng.randrange(len(_PATHS))]}/{rng.randrange(10**6)}",
        "status": rng.choice((200, 200, 200, 201, 404, 500)),
        "ms": rng.randrange(100000) / 1000,
        "bytes": rng.randrange(100000),
        "user": _USERS[rng.randrange(len(_USERS))],
        "trace": f"{rng.getrandbits(128):032x}",
    }


def plain_line(rng: random.Random, i: int) -> str:
    """~200 bytes of plain text."""
    f = _fields(rng, i)
    return (f"{f['ts']} {f['level'].upper():<5} [worker-{i % 8}] request handled method=GET path={f['path']} "
            f"status={f['status']} duration_ms={f['ms']:.3f} bytes={f['bytes']} user={f['user']} "
            f"req={i:010d} trace={f['trace']}")


def json_line(rng: random.Random, i: int) -> str:
    """~250 bytes of one JSON object (time, level, message and typed fields)."""
    f = _fields(rng, i)
    return (f'{{"ts":"{f["ts"]}","level":"{f["level"]}","msg":"request handled","method":"GET",'
            f'"path":"{f["path"]}","status":{f["status"]},"duration_ms":{f["ms"]:.3f},"bytes":{f["bytes"]},'
            f'"user":"{f["user"]}","req":"{i:010d}","cached":{"true" if i % 3 == 0 else "false"},'
            f'"trace_id":"{f["trace"]}"}}')


def make_input(path: Path, kind: str, lines: int, seed: int = 8) -> Path:
    """Writes `lines` deterministic lines of `kind` (plain|json) once; reuses the file after."""
    done = path.with_suffix(path.suffix + ".ok")
    if path.exists() and done.exists() and done.read_text() == f"{kind} {lines} {seed}":
        return path
    rng = random.Random(f"{kind}-{seed}")
    make = plain_line if kind == "plain" else json_line
    with open(path, "w", buffering=1 << 20) as out:
        for start in range(0, lines, 10000):
            out.write("".join(make(rng, i) + "\n" for i in range(start, min(lines, start + 10000))))
    done.write_text(f"{kind} {lines} {seed}")
    return path


# --- processes ----------------------------------------------------------------


@dataclass
class Usage:
    cpu_s: float = 0.0     # user + system seconds
    peak_rss_kib: int = 0  # VmHWM: peak resident set, shared library pages included
    file_kib: int = 0      # RssFile now: mapped binary and shared-library pages (shared with other processes)


def proc_status(pid: int) -> dict:
    """The kB fields of /proc/PID/status (VmRSS, VmHWM, RssAnon, RssFile, ...)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            out[key] = int(rest.split()[0])
    return out


def proc_usage(pid: int) -> Usage:
    """CPU so far, peak RSS and file-backed RSS of a live process (from /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
        st = proc_status(pid)
        return Usage(cpu, st.get("VmHWM", 0), st.get("RssFile", 0))
    except (OSError, ValueError):
        return Usage()


def proc_pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class Child:
    """A child process reaped with wait4, so its own rusage is known."""

    def __init__(self, argv, env=None, stdin=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.popen = subprocess.Popen(argv, env=full_env, stdin=stdin, stdout=stdout, stderr=stderr)
        self.pid = self.popen.pid
        self.status = None
        self.usage = Usage()

    def usage_now(self) -> Usage:
        return proc_usage(self.pid)

    def sample_peak(self) -> None:
        """Records VmHWM while the process runs (for children reaped later)."""
        hwm = proc_usage(self.pid).peak_rss_kib
        self.usage.peak_rss_kib = max(self.usage.peak_rss_kib, hwm)

    def reap(self, timeout: float = 60.0) -> int:
        """Waits for the exit (SIGKILL after `timeout`); keeps wait4's rusage. Returns the exit code."""
        if self.status is not None:
            return self.status
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.01)
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        self.status = self.popen.returncode
        # ru_maxrss of a forked child also counts the parent's pages before exec:
        # keep the VmHWM sampled while it ran when there is one.
        self.usage = Usage(ru.ru_utime + ru.ru_stime, self.usage.peak_rss_kib or ru.ru_maxrss)
        return self.status

    def stop(self, timeout: float = 60.0) -> int:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        return self.reap(timeout)


def read_line_with(stream, prefix: str, timeout: float = 30.0) -> str:
    """Reads lines of a child's stdout until one starts with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        line = line.decode() if isinstance(line, bytes) else line
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise RuntimeError(f"no '{prefix}' line from the child")


def free_port() -> int:
    """A port that was free a moment ago (for children that do not report the port they bound)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int, prefix: str) -> dict:
    """Counters of a Prometheus /metrics endpoint on 127.0.0.1, names without `prefix` and `_total`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(rf"^{prefix}(\w+?)(?:_total)? (\d+)$", text, re.M)}


def wait_for_counter(port: int, prefix: str, name: str, n: int, timeout: float, poll: float = 0.02) -> float:
    """Polls a counter until it reaches n; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = scrape(port, prefix).get(name, 0)
        except OSError:
            last = None  # not listening yet
        if last is not None and last >= n:
            return time.monotonic()
        time.sleep(poll)
    raise RuntimeError(f"{prefix}{name} reached {last} of {n} in {timeout:.0f}s")


class Aggregator:
    """logferry-aggregator on 127.0.0.1 port 0, with its HTTP metrics endpoint."""

    def __init__(self, binary: Path, data_dir: Path, discard: bool, log: Path, extra_env: dict = None):
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {"LOGFERRY_AGGREGATOR_LISTEN": "127.0.0.1:0", "LOGFERRY_AGGREGATOR_HTTP_ADDR": "127.0.0.1:0",
               "LOGFERRY_AGGREGATOR_DATA_DIR": str(data_dir),
               "LOGFERRY_AGGREGATOR_DISCARD": "true" if discard else "false", **(extra_env or {})}
        self.log = open(log, "wb")
        self.child = Child([str(binary)], env=env, stdout=subprocess.PIPE, stderr=self.log)
        self.port = int(read_line_with(self.child.popen.stdout, "listening on ").rsplit(":", 1)[1])
        self.http_port = int(read_line_with(self.child.popen.stdout, "http endpoint on ").rsplit(":", 1)[1])

    def metrics(self) -> dict:
        return scrape(self.http_port, "logferry_aggregator_")

    def wait_for_entries(self, n: int, timeout: float, poll: float = 0.02) -> float:
        """Polls the stored-entries counter until it reaches n; returns the monotonic time it did."""
        return wait_for_counter(self.http_port, "logferry_aggregator_", "entries_stored", n, timeout, poll)

    def stop(self) -> int:
        code = self.child.stop()
        self.log.close()
        return code


class CountingSink:
    """counting_sink.py as a child: counts newline-terminated lines received over TCP."""

    def __init__(self, expect: int):
        self.child = Child(["python3", str(HERE / "counting_sink.py"), "--expect", str(expect)],
                           stdout=subprocess.PIPE)
        self.port = int(read_line_with(self.child.popen.stdout, "port "))

    def wait_done(self, timeout: float, senders=()) -> tuple[int, int, float]:
        """(lines, bytes, monotonic time the last expected line arrived); samples the senders' peak RSS."""
        import select
        deadline = time.monotonic() + timeout
        while not select.select([self.child.popen.stdout], [], [], 0.05)[0]:
            for s in senders:
                s.sample_peak()
            if time.monotonic() > deadline:
                raise RuntimeError("the counting sink did not receive every line in time")
        lines, nbytes, t = read_line_with(self.child.popen.stdout, "done ").split()
        return int(lines), int(nbytes), float(t)

    def stop(self) -> None:
        self.child.stop()


# --- system calls and wake-ups --------------------------------------------------


def task_totals(pid: int) -> tuple:
    """(CPU nanoseconds, context switches) summed over the live threads of a process.

    CPU comes from schedstat (exact, where /proc/PID/stat counts clock ticks). A voluntary
    switch is a thread going to sleep, so the switches count wake-ups (plus preemptions)."""
    cpu_ns = switches = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            cpu_ns += int((task / "schedstat").read_text().split()[0])
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    switches += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass  # the thread exited meanwhile
    return cpu_ns, switches


def parse_perf_stat(text: str) -> dict:
    """`perf stat -x,` output as {event: count}; events not counted (the task never ran) are 0."""
    counts = {}
    for line in text.splitlines():
        parts = line.split(",")
        if line.startswith("#") or len(parts) < 3 or parts[0] == "<not supported>":
            continue
        counts[parts[2]] = int(parts[0]) if parts[0].isdigit() else 0  # some events are listed twice
    return counts


def parse_strace_summary(text: str) -> dict:
    """`strace -c` output as {system call: calls}."""
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        try:
            float(parts[0])
        except (IndexError, ValueError):
            continue
        if len(parts) >= 5 and parts[-1] != "total" and parts[3].isdigit():
            counts[parts[-1]] = int(parts[3])
    return counts


# The calls counted one by one: all ~350 syscalls:sys_enter_* tracepoints at once cost the
# measured process several microseconds per call (its CPU figure would be inflated); these
# are what file shippers call, the total (raw_syscalls) counts every other one.
PER_CALL = ("epoll_wait", "epoll_pwait", "poll", "ppoll", "select", "futex", "read", "pread64", "readv",
            "write", "pwrite64", "writev", "newfstatat", "fstat", "statx", "lseek", "openat", "close",
            "getdents64", "fsync", "fdatasync", "rename", "renameat2", "unlink", "timerfd_settime",
            "recvfrom", "recvmsg", "sendto", "sendmsg", "nanosleep", "clock_nanosleep", "inotify_add_watch")


def per_call_events() -> list:
    """-e arguments for the PER_CALL tracepoints this kernel has."""
    root = Path("/sys/kernel/tracing/events/syscalls")
    names = [n for n in PER_CALL if not root.exists() or (root / f"sys_enter_{n}").exists()]
    return ["-e", ",".join(f"syscalls:sys_enter_{n}" for n in names)]


class SyscallCounter:
    """Counts the system calls of a live process, every thread, between enable() and disable().

    "perf": `perf stat -x, -D -1 --control fd:..` attached with its events off, turned on and off
    through the control pipe (each acknowledged), so the count spans just the window:
    raw_syscalls:sys_enter is the total, PER_CALL's tracepoints each call. Counted in the kernel.
    "strace": `strace -c -f -p PID` from enable() to SIGINT; it slows every call: count CPU apart.
    """

    def __init__(self, tool: str, pid: int, out: Path):
        self.tool, self.pid, self.out = tool, pid, out
        self.proc = None
        self.failed = ""
        if tool == "perf":
            ctl_r, self.ctl = os.pipe()
            self.ack, ack_w = os.pipe()
            self.proc = subprocess.Popen(
                ["perf", "stat", "-x,", "-o", str(out), "-D", "-1", "--control", f"fd:{ctl_r},{ack_w}",
                 "-e", "raw_syscalls:sys_enter", *per_call_events(), "-p", str(pid)],
                pass_fds=(ctl_r, ack_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(ctl_r)
            os.close(ack_w)

    def _perf_command(self, word: str, timeout: float = 30.0) -> bool:
        import select
        try:
            os.write(self.ctl, word.encode() + b"\n")
        except OSError:
            return False  # perf exited
        if not select.select([self.ack], [], [], timeout)[0]:
            return False
        return os.read(self.ack, 16).startswith(b"ack")

    def enable(self) -> None:
        if self.tool == "perf":
            if not self._perf_command("enable"):
                self.failed = "perf stat did not attach"
        elif self.tool == "strace":
            self.proc = subprocess.Popen(["strace", "-c", "-f", "-o", str(self.out), "-p", str(self.pid)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                read_line_with(self.proc.stderr, "strace: Process ", 30.0)  # "... attached [with N threads]"
            except RuntimeError:
                self.failed = "strace did not attach"

    def disable(self) -> None:
        if self.tool == "perf" and not self.failed and not self._perf_command("disable"):
            self.failed = "perf stat stopped early"

    def result(self):
        """(total, {call: count}) once stopped, or None (no tool, or it failed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.tool == "perf":
            os.close(self.ctl)
            os.close(self.ack)
        if self.failed or not self.out.exists():
            return None
        text = self.out.read_text(errors="replace")
        if self.tool == "strace":
            calls = parse_strace_summary(text)
            return (sum(calls.values()), calls) if calls else None
        counts = parse_perf_stat(text)
        calls = {e.removeprefix("syscalls:sys_enter_"): n for e, n in counts.items()
                 if e.startswith("syscalls:sys_enter_") and n}
        total = counts.get("raw_syscalls:sys_enter", sum(calls.values()))
        return (total, calls) if counts else None


@dataclass
class Result:
    """One measured run of one scenario."""
    scenario: str
    lines: int
    nbytes: int
    wall_s: float
    cpu: dict = field(default_factory=dict)       # process name -> CPU seconds
    rss_kib: dict = field(default_factory=dict)   # process name -> peak RSS KiB
    file_kib: dict = field(default_factory=dict)  # process name -> file-backed RSS KiB (libraries, binary)
    checked: str = ""                             # how delivery was verified
    ok: bool = True

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def mib_per_s(self) -> float:
        return self.nbytes / self.wall_s / (1 << 20) if self.wall_s > 0 else 0.0

    def lines_per_cpu_s(self, proc: str) -> float:
        c = self.cpu.get(proc, 0.0)
        return self.lines / c if c > 0 else 0.0
