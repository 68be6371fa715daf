#!/bin/bash
# Smoke test of pool_scaling: every implementation and both job shapes with 1
# and 3 workers and 3,000 jobs. Fails if the program fails (each run checks
# that every job ran) or if its lines are not the JSON objects it promises.
set -euo pipefail

out="${TEST_TMPDIR:-/tmp}/pool_scaling_smoke.out"
"$1" --workers 1,3 --jobs 3000 --repeat 2 > "$out"

if "$1" --workers 0 > /dev/null 2>&1; then
  echo "pool_scaling accepted --workers 0" >&2
  exit 1
fi

/usr/bin/python3 - "$out" <<'PY'
import json, sys

seen = set()
with open(sys.argv[1]) as f:
    for line in f:
        row = json.loads(line)
        assert row["workload"] == "pool_scaling", row
        assert row["jobs"] == 3000 and row["repeat"] == 2, row
        assert row["jobs_per_s"] > 0 and row["cpu_ns_per_job"] > 0, row
        if row["workers"] == 1:
            assert row["speedup"] == 1.0, row
        if row["impl"].startswith("weft"):
            # The pool's counters; spinning off never spins.
            for counter in ("wakeups", "parks", "spins", "steals"):
                assert row[counter] >= 0, row
            assert row["wakeups"] <= row["parks"], row
            if row["impl"] == "weft-spin-off":
                assert row["spins"] == 0, row
        seen.add((row["shape"], row["impl"], row["workers"]))
expected = {(shape, impl, workers)
            for shape in ("tiny", "work")
            for impl in ("weft", "weft-spin-off", "floor", "libuv")
            for workers in (1, 3)}
missing = expected - seen
assert not missing, "missing rows: %s" % sorted(missing)
print("pool_scaling smoke: %d rows" % len(seen))
PY
