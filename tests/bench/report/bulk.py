"""W11's bulk echo in the report: the lines `tests/bench/bulk:bulk_echo` prints
(workloads W11_tcp_echo_ext_64, _16k, _64k, _1m: each server in a process of
its own, driven by an independent load generator, 64 connections with one
message in flight each) and the round-2 goals for them, with a verdict: met,
or missed by how much.

The goals (tests/bench/README.md, docs/performance.md "The round-2 goals"):
at 16 KiB, 64 KiB and 1 MiB, at least 0.95x raw libuv's MB/s and at most 1.1x
its server CPU per message; at 16 KiB, p99 latency at most 1.2x libuv's. The
64 B goal is "unchanged or better" than an earlier build, which one run cannot
judge: its ratios are shown without a verdict. Pure data; single-threaded.
"""

PREFIX = "W11_tcp_echo_ext_"
SIZES = {"64": 64, "16k": 16 * 1024, "64k": 64 * 1024, "1m": 1024 * 1024}

# (field, title, bound kind, limit): "min" means the ratio must be at least
# the limit, "max" at most.
MB_PER_S = ("mb_per_s", "MB/s", "min", 0.95)
SERVER_CPU = ("server_cpu_us_per_rt", "server CPU", "max", 1.1)
P99 = ("p99_us", "p99", "max", 1.2)
FIELDS = (MB_PER_S, SERVER_CPU, P99)
GOALS = {
    16 * 1024: (MB_PER_S, SERVER_CPU, P99),
    64 * 1024: (MB_PER_S, SERVER_CPU),
    1024 * 1024: (MB_PER_S, SERVER_CPU),
}


def message_bytes(workload):
    """The message size of a bulk echo workload, or None for any other."""
    if not workload.startswith(PREFIX):
        return None
    return SIZES.get(workload[len(PREFIX):])


def workloads(capture):
    """The capture's bulk echo workloads, smallest message first."""
    return sorted((w for w in capture.workloads() if message_bytes(w) is not None), key=message_bytes)


def verdict(size, values):
    """The goals' verdict for one server at one size, from its ratios by
    field ({"mb_per_s": 0.97, ...}): "met", "missed: MB/s by 3 %, ...", or
    None where no goal applies (64 B) or a ratio is missing."""
    goals = GOALS.get(size)
    if not goals:
        return None
    missed = []
    for field, title, kind, limit in goals:
        value = values.get(field)
        if value is None:
            return None
        if kind == "min" and value < limit:
            missed.append(f"{title} by {percent(1 - value / limit)}")
        elif kind == "max" and value > limit:
            missed.append(f"{title} by {percent(value / limit - 1)}")
    return "met" if not missed else "missed: " + ", ".join(missed)


def percent(share):
    """0.034 -> "3.4 %"; 0.25 -> "25 %"."""
    value = 100 * share
    return f"{value:.1f} %" if value < 10 else f"{value:.0f} %"
