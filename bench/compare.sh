#!/usr/bin/env bash
# bench/compare.sh - Starling and Debian's Mosquitto side by side, same machine, same run.
#
# For each scenario and each of RUNS runs, starts each broker fresh on a free
# 127.0.0.1 port (alternating which goes first), runs starling-bench against it
# with --json --pid, stops it. bench/report.py then takes medians, computes
# Starling/Mosquitto ratios and prints a Markdown section; --write puts that
# section into docs/BENCHMARKS.md between its markers.
#
#   bench/compare.sh [--write] [--help]
#
# Scenarios (names for ONLY): qos0-1to1, qos0-fanout50, qos1-1to1, qos2-1to1,
# qos0-fanin50; each DURATION seconds after a 1 s warm-up, 64-byte payloads.
#
# Environment (defaults in brackets):
#   RUNS [3]            runs per broker and scenario
#   DURATION [5]        measured seconds per run (plus 1 s warm-up)
#   THREADS [nproc]     Starling worker threads
#   BENCH_THREADS [2]   starling-bench epoll threads
#   ONLY                comma-separated scenario names to run (default: all)
#   BUILD_DIR [build]   where build/starling and build/starling-bench are (built
#                       with cmake, RelWithDebInfo, if missing)
#   STARLING_BIN, BENCH_BIN, MOSQUITTO_BIN [/usr/sbin/mosquitto]
#   RESULTS_DIR [bench/results/DATE]  raw JSON lines of every run (git-ignored)
#
# Everything listens on and connects to 127.0.0.1 only; brokers are stopped on
# exit, whatever the exit path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
THREADS=${THREADS:-$(nproc)}
BENCH_THREADS=${BENCH_THREADS:-2}
ONLY=${ONLY:-}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
STARLING_BIN=${STARLING_BIN:-$BUILD_DIR/starling}
BENCH_BIN=${BENCH_BIN:-$BUILD_DIR/starling-bench}
MOSQUITTO_BIN=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results/$STAMP}
WRITE=0

# name | title | starling-bench arguments (the common ones are added below)
SCENARIOS=(
    "qos0-1to1|QoS 0, 1 → 1, max rate|-q 0 -P 1 -S 1"
    "qos0-fanout50|QoS 0, 1 → 50 fan-out, max rate|-q 0 -P 1 -S 50"
    "qos1-1to1|QoS 1, 1 → 1, window 20|-q 1 -P 1 -S 1"
    "qos2-1to1|QoS 2, 1 → 1, window 20|-q 2 -P 1 -S 1"
    "qos0-fanin50|QoS 0, 50 → 1 fan-in, max rate|-q 0 -P 50 -S 1"
)
COMMON="-d $DURATION --warmup 1 --drain 5 -s 64 --threads $BENCH_THREADS --json"

die() { echo "compare.sh: $*" >&2; exit 1; }

for arg in "$@"; do
    case $arg in
    --write) WRITE=1 ;;
    --help | -h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ -x $PY ]] || die "$PY is required (standard library only)"

# ---- binaries ----
if [[ ! -x $STARLING_BIN || ! -x $BENCH_BIN ]]; then
    echo "compare.sh: building starling and starling-bench in $BUILD_DIR (RelWithDebInfo)" >&2
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target starling starling-bench >/dev/null
fi
[[ -x $STARLING_BIN ]] || die "no Starling binary at $STARLING_BIN"
[[ -x $BENCH_BIN ]] || die "no starling-bench binary at $BENCH_BIN"
BUILD_TYPE="unknown"
CACHE=$(dirname "$STARLING_BIN")/CMakeCache.txt
if [[ -f $CACHE ]]; then
    BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$CACHE")
    BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo (CMakeLists default)}
    SAN=$(sed -n 's/^SL_SANITIZE:STRING=//p' "$CACHE")
    if [[ -n $SAN ]]; then
        die "$STARLING_BIN is a sanitizer build (SL_SANITIZE=$SAN); use BUILD_DIR= of a release build"
    fi
    if [[ $BUILD_TYPE == Debug ]]; then
        echo "compare.sh: warning: $STARLING_BIN is a Debug build; numbers will be low" >&2
    fi
fi

if [[ ! -x $MOSQUITTO_BIN ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "compare.sh: installing mosquitto (Debian package)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y mosquitto >/dev/null
    fi
    [[ -x $MOSQUITTO_BIN ]] || die "no Mosquitto at $MOSQUITTO_BIN (apt-get install mosquitto)"
fi

# ---- brokers ----
TMP=$(mktemp -d /tmp/starling-compare.XXXXXX)
BROKER_PID=""
cleanup() {
    if [[ -n $BROKER_PID ]]; then
        kill -KILL "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { # port -> 0 when something accepts on 127.0.0.1:port
    "$PY" -c 'import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# Settings both brokers get, in Mosquitto's directive names. set_tcp_nodelay:
# with Nagle on, a subscriber's delayed ACKs (40 ms) stall small writes, and
# the run would measure TCP timers rather than the broker.
COMMON_CONF="allow_anonymous true
persistence false
max_inflight_messages 20
max_queued_messages 1000
set_tcp_nodelay true
connection_messages false"

MOSQ_CONF_BODY="$COMMON_CONF
log_dest stderr
log_type error
log_type warning"

# Starling: drop what it reports as not supported yet (it says so at
# --test-config), and note it in the report.
NOTES=()
STARLING_CONF_BODY="threads $THREADS"
while IFS= read -r line; do
    printf 'listener 0 127.0.0.1\n%s\n%s\n' "$STARLING_CONF_BODY" "$line" >"$TMP/probe.conf"
    if msg=$("$STARLING_BIN" --test-config -c "$TMP/probe.conf" 2>&1); then
        STARLING_CONF_BODY+=$'\n'"$line"
    elif grep -q "not supported yet" <<<"$msg"; then
        NOTES+=("Starling: '$line' left out: ${msg##*: }")
    else
        die "Starling rejects '$line': $msg"
    fi
done <<<"$COMMON_CONF"

BROKER_PORT=""
start_starling() {
    local log=$TMP/starling.log i
    printf 'listener 0 127.0.0.1\n%s\n' "$STARLING_CONF_BODY" >"$TMP/starling.conf"
    "$STARLING_BIN" -c "$TMP/starling.conf" >"$log" 2>&1 &
    BROKER_PID=$!
    for ((i = 0; i < 100; i++)); do
        BROKER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
        [[ -n $BROKER_PORT ]] && return 0
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    die "Starling did not start"
}

start_mosquitto() {
    local log=$TMP/mosquitto.log try i
    for ((try = 0; try < 5; try++)); do
        BROKER_PORT=$(free_port)
        printf 'listener %s 127.0.0.1\n%s\n' "$BROKER_PORT" "$MOSQ_CONF_BODY" >"$TMP/mosquitto.conf"
        "$MOSQUITTO_BIN" -c "$TMP/mosquitto.conf" >"$log" 2>&1 &
        BROKER_PID=$!
        for ((i = 0; i < 50; i++)); do
            kill -0 "$BROKER_PID" 2>/dev/null || break
            port_open "$BROKER_PORT" && return 0
            sleep 0.1
        done
        kill -KILL "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=""
    done
    cat "$log" >&2
    die "Mosquitto did not start"
}

stop_broker() {
    local i
    [[ -n $BROKER_PID ]] || return 0
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
}

# ---- runs ----
mkdir -p "$RESULTS_DIR"
RESULTS=$RESULTS_DIR/results.jsonl
: >"$RESULTS"
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
STARLING_VERSION=$({ "$STARLING_BIN" --version 2>&1 || true; } | head -1)
MOSQUITTO_VERSION=$({ "$MOSQUITTO_BIN" -h 2>&1 || true; } | head -1 | sed "s/ is an MQTT.*//")

run_one() { # broker scenario title args run
    local broker=$1 name=$2 title=$3 args=$4 run=$5 rc=0 cmd
    "start_$broker"
    cmd="starling-bench pubsub -p PORT --pid PID $args $COMMON"
    echo "compare.sh: run $run/$RUNS  $name  $broker" >&2
    # shellcheck disable=SC2086
    "$BENCH_BIN" pubsub -p "$BROKER_PORT" --pid "$BROKER_PID" $args $COMMON \
        >"$TMP/out.json" 2>"$TMP/err.txt" || rc=$?
    stop_broker
    "$PY" "$ROOT/bench/report.py" record "$RESULTS" --broker "$broker" --scenario "$name" \
        --title "$title" --run "$run" --exit "$rc" --command "$cmd" \
        --stdout "$TMP/out.json" --stderr "$TMP/err.txt"
}

for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r name title args <<<"$entry"
    if [[ -n $ONLY && ",$ONLY," != *",$name,"* ]]; then
        continue
    fi
    for ((run = 1; run <= RUNS; run++)); do
        if ((run % 2)); then order=(starling mosquitto); else order=(mosquitto starling); fi
        for broker in "${order[@]}"; do
            run_one "$broker" "$name" "$title" "$args" "$run"
        done
    done
done

# ---- report ----
MOSQ_SHOWN=$(printf 'listener PORT 127.0.0.1\n%s\n' "$MOSQ_CONF_BODY")
STARLING_SHOWN=$(printf 'listener 0 127.0.0.1\n%s\n' "$STARLING_CONF_BODY")
M_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
M_LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
export M_DATE M_LOADAVG_AFTER M_RUNS=$RUNS M_DURATION=$DURATION M_THREADS=$THREADS M_BENCH_THREADS=$BENCH_THREADS \
    M_LOADAVG=$LOADAVG M_WRITE=$WRITE M_STARLING_BIN=${STARLING_BIN#"$ROOT"/} \
    M_BUILD_TYPE=$BUILD_TYPE M_STARLING_VERSION=$STARLING_VERSION M_MOSQUITTO_BIN=$MOSQUITTO_BIN \
    M_MOSQUITTO_VERSION=$MOSQUITTO_VERSION M_STARLING_CONF=$STARLING_SHOWN M_MOSQ_CONF=$MOSQ_SHOWN
"$PY" - "$TMP/meta.json" ${NOTES[@]+"${NOTES[@]}"} <<'EOF'
import json, os, sys
e = os.environ
meta = {
    "date": e["M_DATE"],
    "runs": int(e["M_RUNS"]),
    "duration": e["M_DURATION"],
    "threads": e["M_THREADS"],
    "bench_threads": e["M_BENCH_THREADS"],
    "loadavg": e["M_LOADAVG"],
    "loadavg_after": e["M_LOADAVG_AFTER"],
    "write": e["M_WRITE"] == "1",
    "starling_bin": e["M_STARLING_BIN"],
    "starling_build_type": e["M_BUILD_TYPE"],
    "starling_version": e["M_STARLING_VERSION"],
    "mosquitto_bin": e["M_MOSQUITTO_BIN"],
    "mosquitto_version": e["M_MOSQUITTO_VERSION"],
    "starling_conf": e["M_STARLING_CONF"],
    "mosquitto_conf": e["M_MOSQ_CONF"],
    "notes": sys.argv[2:],
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(meta, f, indent=1)
EOF
cp "$TMP/meta.json" "$RESULTS_DIR/meta.json"
WRITE_ARGS=()
if ((WRITE)); then WRITE_ARGS=(--write "$ROOT/docs/BENCHMARKS.md"); fi
"$PY" "$ROOT/bench/report.py" table "$RESULTS" --meta "$TMP/meta.json" ${WRITE_ARGS[@]+"${WRITE_ARGS[@]}"}
echo "compare.sh: raw results in ${RESULTS_DIR#"$ROOT"/}/" >&2
