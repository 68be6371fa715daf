#!/usr/bin/env bash
# Machine instructions per operation of a Lua workload, function by
# function: like instructions.sh (callgrind at two sizes, the difference
# divided by N2 - N1), but run under lua54_symbols or luajit_symbols (the
# interpreter with its function names; code LuaJIT compiled shows as bare
# addresses) and split by function, as JSON lines, the TOP largest (default
# 25) and a total.
#
#   functions.sh SYMBOLS_BINARY MODULE N1 N2 SCRIPT [ARGS...]
#
# Example, after `bazel build --config=opt //bindings/lua:lua54/weft.so
# //tests/bench/lua:lua54_symbols` (MODULE built for the same interpreter):
#
#   tests/bench/lua/functions.sh bazel-bin/tests/bench/lua/lua54_symbols \
#     bazel-bin/bindings/lua/lua54/weft.so 10000 30000 tests/bench/lua/bench.lua --child weft W6 @N@ 0
#
# Needs valgrind (callgrind_annotate) and /usr/bin/python3.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
bin=$1 module=$2 n1=$3 n2=$4 script=$5
shift 5
[ "$n2" -gt "$n1" ] || { echo "functions.sh: N2 must be larger than N1" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "functions.sh: valgrind is not installed" >&2; exit 2; }
export LUA_CPATH="$(dirname "$module")/?.so;;"
export LUA_PATH="$(dirname "$script")/?.lua"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
extra=("$@")

# Instructions per function (self cost) of one run at size $1, into $2.
profile() {
  local args=() a
  for a in "${extra[@]}"; do args+=("${a//@N@/$1}"); done
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" "$script" "${args[@]}" \
    >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  callgrind_annotate --auto=no --inclusive=no --threshold=100 "$work/out" >"$2"
}
profile "$n1" "$work/small"
profile "$n2" "$work/large"
/usr/bin/python3 - "$work/small" "$work/large" "$n1" "$n2" "${TOP:-25}" <<'PY'
import json, re, sys
def load(path):
    per = {}
    for line in open(path):
        if "Auto-annotated source" in line:
            break  # the function list ends; annotated sources follow
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S+)", line)
        if m and "PROGRAM TOTALS" not in line and m.group(2) != "=>":
            name = m.group(2).split(":")[-1]
            per[name] = per.get(name, 0) + int(m.group(1).replace(",", ""))
    return per
small, large = load(sys.argv[1]), load(sys.argv[2])
n = int(sys.argv[4]) - int(sys.argv[3])
rows = sorted(((large.get(k, 0) - small.get(k, 0)) / n, k) for k in set(small) | set(large))
rows.reverse()
for per_op, name in rows[: int(sys.argv[5])]:
    print(json.dumps({"function": name, "instructions_per_op": round(per_op)}))
print(json.dumps({"function": "(total)", "instructions_per_op": round(sum(r[0] for r in rows))}))
PY
