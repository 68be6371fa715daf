"""The report's input: the JSON lines of one capture, sorted into their kinds.

A capture (what `report.py` saves as capture.jsonl, and what `--from` reads)
holds, one JSON object per line:
  {"machine": {...}}                      where and when it ran (machine.py)
  {"impl": ..., "workload": ..., ...}     the benchmark's lines (tests/bench/README.md)
  {"frame": ..., "run_for_ns": ..., ...}  the game loop's frames (examples/game_loop)
  {"bench_failure": "..."}                a workload that failed its own check
The benchmark's median lines (those with "repeats") are skipped: the report
takes its own medians from the per-repeat lines. Anything else is an error.
Pure data, no I/O beyond reading the given lines; single-threaded.
"""

import json
import statistics


class CaptureError(Exception):
    """A capture line that is not what the report can read."""


# A workload's own extra fields worth a column, in the order they are shown.
EXTRA_FIELDS = (
    ("mb_per_s", "MB/s"),
    ("p50_us", "p50 µs"),
    ("p99_us", "p99 µs"),
    ("server_cpu_us_per_rt", "server CPU µs/rt"),
    ("cpu_ns_per_op", "CPU ns/op"),
    ("cpu_per_wall", "CPU/wall"),
    ("rss_kb", "RSS kB"),
    ("peak_rss_kb", "peak RSS kB"),
    ("bytes_per_task", "bytes/task"),
    ("makespan_over_ideal", "makespan/ideal"),
)

# Orders impls as the benchmark runs them: weft's, then the baseline.
IMPL_ORDER = ("weft", "weft-spin-off", "weft-c", "weft-c-hook", "libuv")
BASELINE = "libuv"


class Capture:
    """One capture: machine facts, per-(impl, workload) samples, frames, failures."""

    def __init__(self):
        self.machine = {}
        self.samples = {}  # (impl, workload) -> list of result dicts, one per repeat
        self.frames = []  # the game loop's frame dicts, in order
        self.failures = []  # the benchmark's failure messages

    def workloads(self):
        """Workload names in the benchmark's order (by id number, then name)."""
        names = {workload for _, workload in self.samples}
        return sorted(names, key=workload_sort_key)

    def impls(self, workload):
        found = [impl for impl, name in self.samples if name == workload]
        return sorted(found, key=impl_sort_key)

    def median(self, impl, workload, field):
        """The median of `field` over the repeats, or None if no repeat has it."""
        values = [s[field] for s in self.samples.get((impl, workload), ())
                  if isinstance(s.get(field), (int, float)) and not isinstance(s.get(field), bool)]
        return statistics.median(values) if values else None

    def repeats(self, impl, workload):
        return len(self.samples.get((impl, workload), ()))

    def ratio_to_baseline(self, impl, workload, field="ns_per_op"):
        """impl's median of `field` (ns/op unless told) over raw libuv's in the
        same capture (for ns/op, < 1: faster), or None."""
        mine = self.median(impl, workload, field)
        base = self.median(BASELINE, workload, field)
        if mine is None or base is None or base <= 0:
            return None
        return mine / base


def workload_sort_key(name):
    head = name.split("_", 1)[0]
    if len(head) < 2 or head[0] != "W" or not head[1:].isdigit():
        return (10**6, name)
    return (int(head[1:]), name)


def impl_sort_key(impl):
    return (IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER), impl)


def read_capture(lines, source="capture"):
    """Parses an iterable of text lines into a Capture; raises CaptureError."""
    capture = Capture()
    for number, text in enumerate(lines, 1):
        text = text.strip()
        if not text:
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise CaptureError(f"{where}: not JSON ({e}): {text[:120]!r}") from None
        if not isinstance(obj, dict):
            raise CaptureError(f"{where}: not a JSON object: {text[:120]!r}")
        if "machine" in obj:
            if not isinstance(obj["machine"], dict):
                raise CaptureError(f"{where}: \"machine\" is not an object")
            capture.machine.update(obj["machine"])
        elif "frame" in obj:
            for field in ("run_for_ns", "budget_ns"):
                if not isinstance(obj.get(field), int) or obj[field] < 0:
                    raise CaptureError(f"{where}: frame line without a valid {field}: {text[:120]!r}")
            capture.frames.append(obj)
        elif "bench_failure" in obj:
            capture.failures.append(str(obj["bench_failure"]))
        elif "impl" in obj and "workload" in obj:
            if "repeats" in obj:
                continue  # the benchmark's own median line
            value = obj.get("ns_per_op")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise CaptureError(f"{where}: benchmark line without a positive ns_per_op: {text[:120]!r}")
            capture.samples.setdefault((str(obj["impl"]), str(obj["workload"])), []).append(obj)
        else:
            raise CaptureError(f"{where}: not a machine, benchmark, frame or failure line: {text[:120]!r}")
    return capture


def message_bytes(workload, sample=None):
    """W11's message size: the line's `message_bytes` if it has one, else from the
    name (W11_tcp_echo: 64 B; a _16k, _64k or _1m suffix). None if not W11."""
    if sample is not None and isinstance(sample.get("message_bytes"), int):
        return sample["message_bytes"]
    if not workload.startswith("W11_tcp_echo"):
        return None
    suffix = workload[len("W11_tcp_echo"):]
    if suffix == "":
        return 64
    units = {"k": 1024, "m": 1024 * 1024}
    if suffix.startswith("_") and suffix[-1:].lower() in units and suffix[1:-1].isdigit():
        return int(suffix[1:-1]) * units[suffix[-1].lower()]
    return None
