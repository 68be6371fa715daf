"""The game loop's frame-time statistics from its frame lines
(examples/game_loop --frame-times): how long weft's run_for took per frame
against its budget, over all frames and over those the kernel did not preempt.
Pure functions; single-threaded.
"""


def percentile(sorted_values, fraction):
    """The nearest-rank percentile the game loop itself prints ((n-1)·q)."""
    if not sorted_values:
        return None
    return sorted_values[int((len(sorted_values) - 1) * fraction)]


def summary(frames):
    """A dict of frame statistics in µs, or None when there are no frames."""
    if not frames:
        return None
    budgets = {f["budget_ns"] for f in frames}
    if len(budgets) != 1:
        raise ValueError(f"frames with different budgets: {sorted(budgets)}")
    budget = budgets.pop()
    calm = [f for f in frames if not f.get("preempted")]

    def stats(subset):
        run_for = sorted(f["run_for_ns"] / 1e3 for f in subset)
        over = sorted(max(0, f["run_for_ns"] - budget) / 1e3 for f in subset)
        if not run_for:
            return None
        return {
            "frames": len(subset),
            "run_for_p50_us": percentile(run_for, 0.50),
            "run_for_p99_us": percentile(run_for, 0.99),
            "run_for_max_us": run_for[-1],
            "overshoot_mean_us": sum(over) / len(over),
            "overshoot_p50_us": percentile(over, 0.50),
            "overshoot_p99_us": percentile(over, 0.99),
            "overshoot_max_us": over[-1],
            "over_budget_frames": sum(1 for x in over if x > 0),
        }

    return {
        "budget_us": budget / 1e3,
        "frame_us": frames[0].get("frame_ns", 0) / 1e3,
        "all": stats(frames),
        "calm": stats(calm),
        "preempted": len(frames) - len(calm),
        "blocked": sum(1 for f in frames if f.get("blocked")),
        "paused": sum(1 for f in frames if f.get("paused")),
    }
