"""Facts about the machine and the source a capture was made on: CPU model,
cores, load average, date, kernel and git commit. Read on the main thread
before and after the run; never fails (a fact it cannot read says "unknown").
"""

import datetime
import os
import platform
import subprocess


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_commit(workspace):
    """`<short hash>` (plus " (modified)" when the tree has changes), or "unknown"."""
    if not workspace:
        return "unknown"
    try:
        commit = subprocess.run(["git", "-C", workspace, "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", workspace, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (" (modified)" if dirty else "")


def describe(workspace):
    """The machine line's contents at the start of a run."""
    return {
        "cpu_model": cpu_model(),
        "cores_online": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "load_average_start": load_average(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(),
        "git_commit": git_commit(workspace),
    }
