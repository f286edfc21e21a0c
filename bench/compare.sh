#!/usr/bin/env bash
# bench/compare.sh - Starling and Debian's Mosquitto side by side, same machine, same run.
#
# For each scenario and each of RUNS runs, starts each broker fresh on a free
# 127.0.0.1 port (alternating which goes first), runs starling-bench against it
# with --json --pid, stops it. bench/report.py then takes medians, computes
# Starling/Mosquitto ratios, checks the targets and prints a Markdown section;
# --write puts that section into docs/BENCHMARKS.md between its markers.
#
#   bench/compare.sh [--write] [--list] [--help]
#
# Scenarios (names for ONLY; --list prints them with their arguments). 64-byte
# payloads; pubsub runs measure DURATION seconds after a 1 s warm-up:
#   max rate     qos0-1to1 qos0-fanout50 qos1-1to1 qos2-1to1 qos0-fanin50
#                qos1-shared4: 1 publisher -> one shared group ($share/g/...) of 4
#   one core     core-qos0-1to1 core-qos1-1to1: broker pinned to CPU PIN_BROKER
#                (Starling 'threads 1'), starling-bench (1 thread) to PIN_BENCH
#   fixed rate   fixed-fanin50 fixed-fanout50 fixed-fanout50-pub: QoS 0 at
#                FIXED_TOTAL msg/s offered (fan-in: FIXED_TOTAL/50 per publisher;
#                fan-out: FIXED_TOTAL/50 published = FIXED_TOTAL deliveries/s,
#                and -pub: FIXED_TOTAL published = 50 x FIXED_TOTAL deliveries/s);
#                cpu-qos0 cpu-qos1: 1 -> 1 at CPU_RATE msg/s
#   latency      pairs100-qos1: 100 QoS 1 pairs at PAIR_RATE msg/s each
#   connections  conn-10k: CONNS connections opened as fast as starling-bench's
#                default 128 handshakes in flight per thread allow, held DURATION s;
#                conn-10k-32: the same with 32 handshakes in flight in all; both
#                spread their connections over source addresses 127.0.0.1 .. N
#                (--source-addrs, N from RUNS and CONNS) so that ports in
#                TIME_WAIT from earlier runs never make connect() search
# A group name (max, core, fixed, latency, conn) in ONLY selects its scenarios.
#
# Environment (defaults in brackets):
#   RUNS [3]            runs per broker and scenario
#   DURATION [5]        measured seconds per run (plus 1 s warm-up); conn: hold time
#   THREADS [nproc]     Starling worker threads (one-core scenarios: 1)
#   BENCH_THREADS [2]   starling-bench epoll threads (one-core scenarios: 1)
#   ONLY                comma-separated scenario or group names (default: all)
#   FIXED_TOTAL [50000] CPU_RATE [10000] PAIR_RATE [200] CONNS [10000]
#   PIN_BROKER [0] PIN_BENCH [1]  CPUs of the one-core scenarios (taskset -c)
#   BUILD_DIR [build]   where build/starling and build/starling-bench are (built
#                       with cmake, RelWithDebInfo, if missing)
#   STARLING_BIN, BENCH_BIN, MOSQUITTO_BIN [/usr/sbin/mosquitto]
#   RESULTS_DIR [bench/results/DATE]  raw JSON lines of every run (git-ignored)
#
# The open-file limit is raised to the hard limit (ulimit -n) for both brokers and
# the bench; connection scenarios are skipped, with a note, if it is below
# CONNS + 100. A default run (16 scenarios x RUNS 3 x 2 brokers) takes about
# 11 minutes on 2 CPUs. Everything listens on and connects to 127.0.0.1 only;
# brokers are stopped on exit, whatever the exit path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
THREADS=${THREADS:-$(nproc)}
BENCH_THREADS=${BENCH_THREADS:-2}
ONLY=${ONLY:-}
FIXED_TOTAL=${FIXED_TOTAL:-50000}
CPU_RATE=${CPU_RATE:-10000}
PAIR_RATE=${PAIR_RATE:-200}
CONNS=${CONNS:-10000}
PIN_BROKER=${PIN_BROKER:-0}
PIN_BENCH=${PIN_BENCH:-1}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
STARLING_BIN=${STARLING_BIN:-$BUILD_DIR/starling}
BENCH_BIN=${BENCH_BIN:-$BUILD_DIR/starling-bench}
MOSQUITTO_BIN=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results/$STAMP}
WRITE=0
LIST=0

die() { echo "compare.sh: $*" >&2; exit 1; }

for var in RUNS DURATION FIXED_TOTAL CPU_RATE PAIR_RATE CONNS; do
    [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive integer"
done
[[ $THREADS =~ ^[1-9][0-9]*$ && $BENCH_THREADS =~ ^[1-9][0-9]*$ ]] ||
    die "THREADS and BENCH_THREADS must be positive integers"
((FIXED_TOTAL % 50 == 0)) || die "FIXED_TOTAL must be a multiple of 50 (50 publishers)"

num() { "$PY" -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$1"; }
F_PER=$((FIXED_TOTAL / 50))
# The two conn scenarios open 2 x RUNS x 2 x CONNS connections within a few
# minutes, and each closed one keeps its port in TIME_WAIT for 60 s: from one
# source address the kernel's 28,000 ephemeral ports run out after about three
# runs, and connect() then spends most of the bench's CPU searching for a free
# port (bench CPU per connect 38 -> 94 us, measured). Spreading the connections
# over 127.0.0.1 .. 127.0.0.N gives each address its own ports.
SOURCE_ADDRS=$((RUNS * 4 * CONNS / 20000 + 1))

# name | group | kind | placement (any, or pin: one core each) | title | arguments
# (the common arguments are added in run_one)
SCENARIOS=(
    "qos0-1to1|max|pubsub|any|QoS 0, 1 → 1|-q 0 -P 1 -S 1"
    "qos0-fanout50|max|pubsub|any|QoS 0, 1 → 50 fan-out|-q 0 -P 1 -S 50"
    "qos1-1to1|max|pubsub|any|QoS 1, 1 → 1, window 20|-q 1 -P 1 -S 1"
    "qos2-1to1|max|pubsub|any|QoS 2, 1 → 1, window 20|-q 2 -P 1 -S 1"
    "qos0-fanin50|max|pubsub|any|QoS 0, 50 → 1 fan-in|-q 0 -P 50 -S 1"
    "qos1-shared4|max|pubsub|any|QoS 1, 1 → shared group of 4, window 20|-q 1 -P 1 -S 4 -T \$share/g/bench/#"
    "core-qos0-1to1|core|pubsub|pin|QoS 0, 1 → 1, one core each|-q 0 -P 1 -S 1"
    "core-qos1-1to1|core|pubsub|pin|QoS 1, 1 → 1, window 20, one core each|-q 1 -P 1 -S 1"
    "fixed-fanin50|fixed|pubsub|any|QoS 0, 50 → 1 fan-in, 50 × $(num $F_PER) msg/s|-q 0 -P 50 -S 1 -r $F_PER"
    "fixed-fanout50|fixed|pubsub|any|QoS 0, 1 → 50 fan-out, $(num $F_PER) msg/s published|-q 0 -P 1 -S 50 -r $F_PER"
    "fixed-fanout50-pub|fixed|pubsub|any|QoS 0, 1 → 50 fan-out, $(num "$FIXED_TOTAL") msg/s published|-q 0 -P 1 -S 50 -r $FIXED_TOTAL"
    "cpu-qos0|fixed|pubsub|any|QoS 0, 1 → 1, $(num "$CPU_RATE") msg/s|-q 0 -P 1 -S 1 -r $CPU_RATE"
    "cpu-qos1|fixed|pubsub|any|QoS 1, 1 → 1, $(num "$CPU_RATE") msg/s, window 20|-q 1 -P 1 -S 1 -r $CPU_RATE"
    "pairs100-qos1|latency|pubsub|any|QoS 1, 100 pairs × $(num "$PAIR_RATE") msg/s|-P 100 -S 100 -t b/%i -T b/%i -q 1 -r $PAIR_RATE"
    "conn-10k|conn|conn|any|$(num "$CONNS") connections, $((128 * BENCH_THREADS)) handshakes in flight|-c $CONNS --source-addrs $SOURCE_ADDRS"
    "conn-10k-32|conn|conn|any|$(num "$CONNS") connections, 32 handshakes in flight|-c $CONNS --max-pending $(((32 + BENCH_THREADS - 1) / BENCH_THREADS)) --source-addrs $SOURCE_ADDRS"
)


for arg in "$@"; do
    case $arg in
    --write) WRITE=1 ;;
    --list) LIST=1 ;;
    --help | -h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
    esac
done
[[ -x $PY ]] || die "$PY is required (standard library only)"

# ---- selection ----
selected() { # name group -> 0 when ONLY is empty or names the scenario or its group
    [[ -z $ONLY || ",$ONLY," == *",$1,"* || ",$ONLY," == *",$2,"* ]]
}
if [[ -n $ONLY ]]; then
    IFS=',' read -r -a WANT <<<"$ONLY"
    for w in "${WANT[@]}"; do
        found=0
        for entry in "${SCENARIOS[@]}"; do
            IFS='|' read -r name group _ <<<"$entry"
            [[ $w == "$name" || $w == "$group" ]] && found=1
        done
        ((found)) || die "ONLY: no scenario or group '$w' (try --list)"
    done
fi
if ((LIST)); then
    for entry in "${SCENARIOS[@]}"; do
        IFS='|' read -r name group kind place title args <<<"$entry"
        selected "$name" "$group" || continue
        printf '%-19s %-7s %-3s  %s\n%-32s starling-bench %s %s\n' "$name" "$group" "$place" "$title" "" "$kind" "$args"
    done
    exit 0
fi

# ---- limits ----
# Both brokers and the bench inherit this: 10,000 connections need 10,000
# descriptors in the broker and as many in the bench.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
NOTES=()
SKIP_CONN=0
if [[ $NOFILE != unlimited ]] && ((NOFILE < CONNS + 100)); then
    SKIP_CONN=1
    NOTES+=("connection scenarios skipped: open-file limit $NOFILE (hard limit) is below CONNS + 100 = $((CONNS + 100))")
fi
SKIP_PIN=0
if ! command -v taskset >/dev/null || (($(nproc) < 2)); then
    SKIP_PIN=1
    NOTES+=("one-core scenarios skipped: they need taskset and at least 2 CPUs")
fi

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
# Which source the binary was built from, as far as git can tell (informative;
# STARLING_REV overrides it for a binary built elsewhere).
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain -- src include CMakeLists.txt 2>/dev/null) ]]; then
    GIT_REV+=" + uncommitted changes in src/"
fi
GIT_REV=${STARLING_REV:-$GIT_REV}

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
# the run would measure TCP timers rather than the broker. max_connections -1
# (no limit) is both brokers' default, written out because the connection
# scenarios depend on it.
COMMON_CONF="allow_anonymous true
persistence false
max_connections -1
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
STARLING_CONF_BODY=""
while IFS= read -r line; do
    printf 'listener 0 127.0.0.1\nthreads %s\n%s%s\n' "$THREADS" "$STARLING_CONF_BODY" "$line" >"$TMP/probe.conf"
    if msg=$("$STARLING_BIN" --test-config -c "$TMP/probe.conf" 2>&1); then
        STARLING_CONF_BODY+="$line"$'\n'
    elif grep -q "not supported yet" <<<"$msg"; then
        NOTES+=("Starling: '$line' left out: ${msg##*: }")
    else
        die "Starling rejects '$line': $msg"
    fi
done <<<"$COMMON_CONF"

BROKER_PORT=""
PIN_PREFIX=() # taskset for the broker of a one-core run
start_starling() { # threads
    local log=$TMP/starling.log i
    printf 'listener 0 127.0.0.1\nthreads %s\n%s' "$1" "$STARLING_CONF_BODY" >"$TMP/starling.conf"
    ${PIN_PREFIX[@]+"${PIN_PREFIX[@]}"} "$STARLING_BIN" -c "$TMP/starling.conf" >"$log" 2>&1 &
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

start_mosquitto() { # (threads: does not apply)
    local log=$TMP/mosquitto.log try i
    for ((try = 0; try < 5; try++)); do
        BROKER_PORT=$(free_port)
        printf 'listener %s 127.0.0.1\n%s\n' "$BROKER_PORT" "$MOSQ_CONF_BODY" >"$TMP/mosquitto.conf"
        ${PIN_PREFIX[@]+"${PIN_PREFIX[@]}"} "$MOSQUITTO_BIN" -c "$TMP/mosquitto.conf" >"$log" 2>&1 &
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

listen_backlog() { # port -> backlog of the listening socket(s) (Send-Q of ss -lt)
    command -v ss >/dev/null || return 0
    ss -Hltn "sport = :$1" 2>/dev/null | awk '{print $3}' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# ---- runs ----
mkdir -p "$RESULTS_DIR"
RESULTS=$RESULTS_DIR/results.jsonl
: >"$RESULTS"
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
STARLING_VERSION=$({ "$STARLING_BIN" --version 2>&1 || true; } | head -1)
MOSQUITTO_VERSION=$({ "$MOSQUITTO_BIN" -h 2>&1 || true; } | head -1 | sed "s/ is an MQTT.*//")
T_START=$(date +%s)

run_one() { # broker scenario group kind place title args run
    local broker=$1 name=$2 group=$3 kind=$4 place=$5 title=$6 args=$7 run=$8
    local rc=0 threads=$THREADS bthreads=$BENCH_THREADS cmd common backlog load bcmd
    local bench_prefix=()
    PIN_PREFIX=()
    if [[ $place == pin ]]; then
        threads=1
        bthreads=1
        PIN_PREFIX=(taskset -c "$PIN_BROKER")
        bench_prefix=(taskset -c "$PIN_BENCH")
    fi
    if [[ $kind == pubsub ]]; then
        common="-d $DURATION --warmup 1 --drain 5 -s 64 --threads $bthreads --json"
    else
        common="-d $DURATION --threads $bthreads --json"
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    "start_$broker" "$threads"
    backlog=$(listen_backlog "$BROKER_PORT")
    cmd="${bench_prefix[*]}${bench_prefix[*]:+ }starling-bench $kind -p PORT --pid PID $args $common"
    bcmd="${PIN_PREFIX[*]}${PIN_PREFIX[*]:+ }$broker"
    [[ $broker == starling ]] && bcmd+=" (threads $threads)"
    echo "compare.sh: $(($(date +%s) - T_START)) s  run $run/$RUNS  $name  $broker" >&2
    # shellcheck disable=SC2086
    ${bench_prefix[@]+"${bench_prefix[@]}"} "$BENCH_BIN" "$kind" -p "$BROKER_PORT" --pid "$BROKER_PID" \
        $args $common >"$TMP/out.json" 2>"$TMP/err.txt" || rc=$?
    stop_broker
    PIN_PREFIX=()
    "$PY" "$ROOT/bench/report.py" record "$RESULTS" --broker "$broker" --scenario "$name" \
        --group "$group" --title "$title" --run "$run" --exit "$rc" --command "$cmd" \
        --broker-command "$bcmd" --listen-backlog "$backlog" --loadavg "$load" \
        --stdout "$TMP/out.json" --stderr "$TMP/err.txt"
}

for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r name group kind place title args <<<"$entry"
    selected "$name" "$group" || continue
    if [[ $kind == conn ]] && ((SKIP_CONN)); then continue; fi
    if [[ $place == pin ]] && ((SKIP_PIN)); then continue; fi
    for ((run = 1; run <= RUNS; run++)); do
        if ((run % 2)); then order=(starling mosquitto); else order=(mosquitto starling); fi
        for broker in "${order[@]}"; do
            run_one "$broker" "$name" "$group" "$kind" "$place" "$title" "$args" "$run"
        done
    done
done
[[ -s $RESULTS ]] || die "no scenario ran${NOTES[*]+ (${NOTES[*]})}"

# ---- report ----
MOSQ_SHOWN=$(printf 'listener PORT 127.0.0.1\n%s\n' "$MOSQ_CONF_BODY")
STARLING_SHOWN=$(printf 'listener 0 127.0.0.1\nthreads %s\n%s' "$THREADS" "$STARLING_CONF_BODY")
M_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
M_LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
M_ELAPSED=$(($(date +%s) - T_START))
M_ENV="RUNS=$RUNS DURATION=$DURATION THREADS=$THREADS BENCH_THREADS=$BENCH_THREADS"
[[ -n $ONLY ]] && M_ENV+=" ONLY=$ONLY"
[[ $FIXED_TOTAL != 50000 ]] && M_ENV+=" FIXED_TOTAL=$FIXED_TOTAL"
[[ $CPU_RATE != 10000 ]] && M_ENV+=" CPU_RATE=$CPU_RATE"
[[ $PAIR_RATE != 200 ]] && M_ENV+=" PAIR_RATE=$PAIR_RATE"
[[ $CONNS != 10000 ]] && M_ENV+=" CONNS=$CONNS"
export M_DATE M_LOADAVG_AFTER M_RUNS=$RUNS M_DURATION=$DURATION M_THREADS=$THREADS M_BENCH_THREADS=$BENCH_THREADS \
    M_LOADAVG=$LOADAVG M_WRITE=$WRITE M_STARLING_BIN=${STARLING_BIN#"$ROOT"/} \
    M_BUILD_TYPE=$BUILD_TYPE M_STARLING_VERSION=$STARLING_VERSION M_MOSQUITTO_BIN=$MOSQUITTO_BIN \
    M_MOSQUITTO_VERSION=$MOSQUITTO_VERSION M_STARLING_CONF=$STARLING_SHOWN M_MOSQ_CONF=$MOSQ_SHOWN \
    M_ELAPSED M_ENV M_NOFILE=$NOFILE M_GIT_REV=$GIT_REV M_PIN_BROKER=$PIN_BROKER M_PIN_BENCH=$PIN_BENCH
"$PY" - "$TMP/meta.json" ${NOTES[@]+"${NOTES[@]}"} <<'PYEOF'
import json, os, sys
e = os.environ
meta = {
    "date": e["M_DATE"],
    "runs": int(e["M_RUNS"]),
    "duration": e["M_DURATION"],
    "threads": e["M_THREADS"],
    "bench_threads": e["M_BENCH_THREADS"],
    "env": e["M_ENV"],
    "elapsed_s": int(e["M_ELAPSED"]),
    "nofile": e["M_NOFILE"],
    "pin_broker": e["M_PIN_BROKER"],
    "pin_bench": e["M_PIN_BENCH"],
    "loadavg": e["M_LOADAVG"],
    "loadavg_after": e["M_LOADAVG_AFTER"],
    "write": e["M_WRITE"] == "1",
    "starling_bin": e["M_STARLING_BIN"],
    "starling_build_type": e["M_BUILD_TYPE"],
    "starling_version": e["M_STARLING_VERSION"],
    "starling_git": e["M_GIT_REV"],
    "mosquitto_bin": e["M_MOSQUITTO_BIN"],
    "mosquitto_version": e["M_MOSQUITTO_VERSION"],
    "starling_conf": e["M_STARLING_CONF"],
    "mosquitto_conf": e["M_MOSQ_CONF"],
    "notes": sys.argv[2:],
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(meta, f, indent=1)
PYEOF
cp "$TMP/meta.json" "$RESULTS_DIR/meta.json"
WRITE_ARGS=()
if ((WRITE)); then WRITE_ARGS=(--write "$ROOT/docs/BENCHMARKS.md"); fi
"$PY" "$ROOT/bench/report.py" table "$RESULTS" --meta "$TMP/meta.json" ${WRITE_ARGS[@]+"${WRITE_ARGS[@]}"}
echo "compare.sh: raw results in ${RESULTS_DIR#"$ROOT"/}/ ($M_ELAPSED s)" >&2
