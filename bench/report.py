#!/usr/bin/python3
"""report.py - the bookkeeping half of bench/compare.sh (Python standard library only).

  report.py record RESULTS.jsonl --broker B --scenario S --group G --title T --run N
                   --exit RC --command CMD [--broker-command CMD] [--listen-backlog N]
                   [--loadavg L] --stdout FILE --stderr FILE
      appends one run (starling-bench's --json object, or why there is none)

  report.py table RESULTS.jsonl --meta META.json [--write docs/BENCHMARKS.md]
      medians per (scenario, broker), Starling/Mosquitto ratios, the targets
      (met or not), sanity checks, a Markdown section on stdout; with --write it
      replaces the section between the markers in the given file (creating the
      file or the markers if needed)

Every number in the tables comes from RESULTS.jsonl; nothing is typed in. The
only constants are the targets' goals (TARGETS), which are requirements, not
results.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

BEGIN = "<!-- BEGIN bench/compare.sh results (generated; do not edit by hand) -->"
END = "<!-- END bench/compare.sh results -->"
BROKERS = [("starling", "Starling"), ("mosquitto", "Mosquitto")]


def cmd_record(a):
    with open(a.stdout, encoding="utf-8", errors="replace") as f:
        out = f.read().strip()
    with open(a.stderr, encoding="utf-8", errors="replace") as f:
        err = f.read().strip()
    result = None
    if out:
        try:
            result = json.loads(out.splitlines()[-1])
        except ValueError:
            err = (err + "\nunparsable output: " + out[:500]).strip()
    rec = {
        "broker": a.broker,
        "scenario": a.scenario,
        "group": a.group,
        "title": a.title,
        "run": a.run,
        "exit": a.exit,
        "command": a.command,
        "broker_command": a.broker_command,
        "listen_backlog": a.listen_backlog,
        "loadavg": a.loadavg,
        "result": result,
        "stderr": err[-2000:],
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with open(a.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


def load(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


# ---- formatting ----


def fmt_rate(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_num(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_us(v):
    if v is None:
        return "–"
    if v < 1000:
        return f"{v:.0f} µs"
    if v < 1e6:
        return f"{v / 1000:.1f} ms"
    return f"{v / 1e6:.2f} s"


def fmt_kb(v):
    return "–" if v is None else f"{v / 1024:.1f} MiB"


def fmt_ratio(s, m):
    if s is None or m is None or m == 0:
        return "–"
    return f"×{s / m:.2f}"


# ---- metrics: key -> (column header, value from one run's JSON, formatter, ratio?) ----


def lat(key, field="latency_us"):
    def get(res):
        l = res.get(field) or {}
        return l.get(key) if l.get("samples") else None

    return get


def loss(res):
    v = res.get("lost")
    return res.get("dropped") if v is None else v


def conn_failed(res):
    if res.get("failed") is None:
        return None
    return res["failed"] + (res.get("lost_during_hold") or 0)


def field(name):
    return lambda res: res.get(name)


METRICS = {
    "rate": ("Delivered msg/s", field("delivery_rate"), fmt_rate, True),
    "offered": ("Offered msg/s", field("offered_delivery_rate"), fmt_rate, False),
    "cpu_s": ("Broker CPU s", field("broker_cpu_s"), fmt_num, True),
    "bench_cpu_s": ("Bench CPU s", field("bench_cpu_window_s"), fmt_num, True),
    "cpu_us": ("CPU µs/msg", field("broker_cpu_us_per_msg"), fmt_num, True),
    # The same number: CPU µs per message = CPU seconds per million messages.
    "cpu_1m": ("CPU s per 1M delivered", field("broker_cpu_us_per_msg"), fmt_num, True),
    "p50": ("p50 latency", lat("p50"), fmt_us, True),
    "p90": ("p90", lat("p90"), fmt_us, True),
    "p99": ("p99 latency", lat("p99"), fmt_us, True),
    "p999": ("p99.9", lat("p999"), fmt_us, True),
    "max": ("max", lat("max"), fmt_us, True),
    "loss": ("Lost (QoS 0: dropped)", loss, fmt_int, False),
    "conn_rate": ("Connects/s", field("connect_rate"), fmt_rate, True),
    "conn_p50": ("Connect p50", lat("p50", "connect_latency_us"), fmt_us, True),
    "conn_p99": ("Connect p99", lat("p99", "connect_latency_us"), fmt_us, True),
    "rss_before": ("RSS before", field("broker_rss_kb_before"), fmt_kb, True),
    "rss_held": ("RSS held", field("broker_rss_kb_after"), fmt_kb, True),
    "bytes_conn": ("Bytes/connection", field("broker_bytes_per_connection"), fmt_int, True),
    "cpu_us_conn": ("CPU µs/connect", field("broker_cpu_us_per_connect"), fmt_num, True),
    "bench_us_conn": ("Bench CPU µs/connect", field("bench_cpu_us_per_connect"), fmt_num, True),
    "conn_failed": ("Failed", conn_failed, fmt_int, False),
}

# Groups in the order the page shows them: title, columns, what to know.
GROUPS = [
    ("fixed", "Fixed offered rate",
     ["offered", "rate", "cpu_s", "cpu_1m", "p50", "p99", "loss"],
     "Publishers send on a fixed schedule (`-r`), so both brokers have the same work "
     "to do and the comparison is what it costs (broker CPU) and how long a message "
     "takes. *Offered msg/s* is deliveries per second the schedule asks for (rate × "
     "publishers × matching subscribers); a broker that delivers less could not keep "
     "up, and its row is at saturation."),
    ("latency", "Latency under moderate load",
     ["rate", "p50", "p90", "p99", "p999", "max", "cpu_s", "loss"],
     "Each publisher has its own subscriber (topic `b/i`, filter `b/i`), all at a "
     "fixed rate, so latency here is the broker's handling time plus scheduling, not "
     "queueing behind a saturated link."),
    ("conn", "Connections",
     ["conn_rate", "conn_p50", "conn_p99", "rss_before", "rss_held", "bytes_conn",
      "cpu_us_conn", "bench_us_conn", "conn_failed"],
     "starling-bench opens the connections as fast as its handshakes in flight allow "
     "(each TCP connect + CONNECT/CONNACK), holds them idle for the run's duration "
     "and closes them. *Connects/s*: connections through CONNACK ÷ time from the "
     "first socket() to the last CONNACK. *Connect p50/p99*: socket() to CONNACK. "
     "*RSS before/held*: broker VmRSS before the first connection and at the end of "
     "the hold. *Bytes/connection*: (held − before) ÷ connections; socket buffers "
     "are kernel memory and not in either RSS. *CPU µs/connect*: broker CPU while "
     "connecting ÷ connections; *Bench CPU µs/connect* the same for starling-bench, "
     "which on loopback also pays most of the kernel's TCP handshake work. They "
     "share the machine's CPUs, which bounds the rate: (broker + bench) CPU µs per "
     "connect × connects/s cannot exceed 1,000,000 per CPU."),
    ("max", "Maximum rate, all CPUs shared",
     ["rate", "cpu_s", "cpu_us", "bench_cpu_s", "p50", "p99", "loss"],
     "Publishers send as fast as the broker takes their messages. Latency at max "
     "rate is mostly queueing in socket buffers and broker queues; compare it only "
     "between runs of the same scenario."),
    ("core", "Maximum rate, one core each",
     ["rate", "cpu_s", "cpu_us", "bench_cpu_s", "p50", "p99", "loss"],
     "The broker is pinned to one CPU with `taskset` (Starling with `threads 1`) and "
     "starling-bench, with one thread, to the other, so neither competes with the "
     "other for a core: a per-core comparison. *Broker CPU s* or *Bench CPU s* close "
     "to the measured interval ({duration} s) means that side used its whole core; "
     "both well below it means the run was bound by round trips (for QoS 1, the "
     "20-message windows), not by CPU."),
]

# Requirements of the performance issue: (metric, scenario, op, goal). The
# measured side is the Starling/Mosquitto ratio of the medians.
TARGETS = [
    ("rate", "qos0-1to1", ">=", 5.0),
    ("rate", "qos0-fanout50", ">=", 5.0),
    ("rate", "qos0-fanin50", ">=", 3.0),
    ("cpu_us", "qos0-1to1", "<=", 0.2),
    ("cpu_us", "qos0-fanout50", "<=", 0.2),
    ("cpu_us", "qos0-fanin50", "<=", 0.2),
    ("rate", "qos1-1to1", ">=", 2.0),
    ("rate", "qos2-1to1", ">=", 2.0),
    ("p99", "pairs100-qos1", "<=", 0.5),
    ("cpu_1m", "cpu-qos0", "<=", 0.85),
    ("cpu_1m", "cpu-qos1", "<=", 0.85),
    ("bytes_conn", "conn-10k", "<=", 1.0),
    ("conn_rate", "conn-10k", ">=", 2.0),
    ("conn_rate", "conn-10k-32", ">=", 2.0),
]
TARGET_LABEL = {
    "rate": "Delivered msg/s at max rate",
    "cpu_us": "Broker CPU µs per delivered message at max rate",
    "p99": "p99 latency",
    "cpu_1m": "Broker CPU s per 1M delivered",
    "bytes_conn": "Broker RSS per idle connection",
    "conn_rate": "Connections per second",
}


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "memory": mem,
    }


class Data:
    """Runs grouped by scenario and broker, with medians per metric."""

    def __init__(self, recs):
        self.recs = recs
        self.order = []
        self.titles = {}
        self.group = {}
        for r in recs:
            sc = r["scenario"]
            if sc not in self.titles:
                self.order.append(sc)
                self.titles[sc] = r.get("title") or sc
                self.group[sc] = r.get("group") or "max"

    def runs(self, sc, broker):
        return [r for r in self.recs if r["scenario"] == sc and r["broker"] == broker]

    def ok(self, sc, broker):
        return [r for r in self.runs(sc, broker) if r["result"] is not None]

    def median(self, sc, broker, metric):
        get = METRICS[metric][1]
        return median([get(r["result"]) for r in self.ok(sc, broker)])

    def paired(self, sc, metric):
        """(Starling, Mosquitto) values of the same run number."""
        get = METRICS[metric][1]
        by_run = {}
        for key, _ in BROKERS:
            for r in self.ok(sc, key):
                by_run.setdefault(r["run"], {})[key] = get(r["result"])
        return [(v.get("starling"), v.get("mosquitto")) for _, v in sorted(by_run.items())
                if v.get("starling") is not None and v.get("mosquitto") is not None]


def group_table(d, scenarios, cols):
    lines = []
    heads = [METRICS[c][0] for c in cols]
    lines.append("| Scenario | Broker | " + " | ".join(heads) + " | Runs |")
    lines.append("|---|---|" + "---:|" * len(cols) + "---:|")
    for sc in scenarios:
        med = {}
        for key, name in BROKERS:
            med[key] = {c: d.median(sc, key, c) for c in cols}
            cells = [METRICS[c][2](med[key][c]) for c in cols]
            n_ok, n = len(d.ok(sc, key)), len(d.runs(sc, key))
            lines.append(f"| {d.titles[sc] if key == 'starling' else ''} | {name} | "
                         + " | ".join(cells) + f" | {n_ok}/{n} |")
        ratios = []
        for c in cols:
            ratios.append(f"*{fmt_ratio(med['starling'][c], med['mosquitto'][c])}*"
                          if METRICS[c][3] else "")
        lines.append("| | *Starling / Mosquitto* | " + " | ".join(ratios) + " | |")
    return lines


def targets_table(d):
    lines = ["| Target | Starling | Mosquitto | Ratio | Goal | Runs meeting it | Met? |",
             "|---|---:|---:|---:|---:|---:|---|"]
    n = 0
    for metric, sc, op, goal in TARGETS:
        if sc not in d.titles:
            continue
        n += 1
        fmt = METRICS[metric][2]
        s, m = d.median(sc, "starling", metric), d.median(sc, "mosquitto", metric)
        ratio = s / m if s is not None and m else None

        def meets(r):
            return r is not None and (r <= goal if op == "<=" else r >= goal)

        pairs = d.paired(sc, metric)
        good = sum(1 for ps, pm in pairs if pm and meets(ps / pm))
        verdict = "–" if ratio is None else ("**met**" if meets(ratio) else "**not met**")
        goal_s = f"{'≤' if op == '<=' else '≥'} ×{goal:g}"
        lines.append(f"| {TARGET_LABEL[metric]}: {d.titles[sc]} | {fmt(s)} | {fmt(m)} | "
                     f"{'–' if ratio is None else f'×{ratio:.2f}'} | {goal_s} | "
                     f"{good}/{len(pairs)} | {verdict} |")
    return lines if n else []


def distinct(values):
    out = []
    for v in values:
        if v is not None and v not in out:
            out.append(v)
    return out


def checks(d):
    """Things a reader should know before trusting a row, all from the data."""
    out = []
    for sc in d.order:
        g = d.group[sc]
        for key, name in BROKERS:
            ok = d.ok(sc, key)
            if not ok:
                continue
            if g in ("fixed", "latency"):
                offered = d.median(sc, key, "offered")
                rate = d.median(sc, key, "rate")
                if offered and rate is not None and abs(rate / offered - 1) > 0.02:
                    out.append(f"{d.titles[sc]}, {name}: delivered {rate:,.0f} msg/s of "
                               f"{offered:,.0f} offered ({100 * rate / offered:.0f} %): it "
                               "did not keep up, so this row is at saturation")
                drop = d.median(sc, key, "loss")
                if drop:
                    out.append(f"{d.titles[sc]}, {name}: median {drop:,.0f} messages "
                               f"{'dropped' if ok[0]['result'].get('qos') == 0 else 'lost'}")
        if d.group[sc] != "conn":
            split = []
            for r in d.ok(sc, "starling"):
                th = r["result"].get("broker_thread_cpu_s") or []
                tot = sum(th)
                if tot <= 0:
                    continue
                busy = sum(1 for t in th if t >= 0.1 * tot)
                split.append((r["run"], busy, r["result"].get("broker_cpu_us_per_msg"), th))
            if len({b for _, b, _, _ in split}) > 1:
                out.append(f"{d.titles[sc]}, Starling: the work fell on a different number of "
                           "threads from run to run (clients are placed on workers by a hash "
                           "of their client id, which changes every run): "
                           + "; ".join(f"run {n}: {b} busy thread{'' if b == 1 else 's'} "
                                       f"({' + '.join(f'{t:.2f}' for t in th if t > 0)} s), "
                                       f"{fmt_num(us)} µs/msg"
                                       for n, b, us, th in split))
        if g == "core":
            parts = []
            bench_cpus = []
            for key, name in BROKERS:
                res = [r["result"] for r in d.ok(sc, key)]
                cpus = distinct(r.get("broker_cpus_allowed") for r in res)
                thr = distinct(r.get("broker_threads") for r in res)
                bench_cpus += distinct(r.get("bench_cpus_allowed") for r in res)
                nthr = " / ".join(map(str, thr)) or "?"
                parts.append(f"{name} on CPUs {' / '.join(map(str, cpus)) or '?'} with {nthr} "
                             f"thread{'' if thr == [1] else 's'} in all")
            out.append(f"{d.titles[sc]}: " + ", ".join(parts) + ", starling-bench on CPUs "
                       + (" / ".join(map(str, distinct(bench_cpus))) or "?")
                       + " (read from /proc/PID/status during the runs; Starling's threads "
                       "are its main thread plus the workers)")
    backlog = {}
    for r in d.recs:
        if r.get("group") == "conn" and r.get("listen_backlog"):
            backlog.setdefault(r["broker"], set()).add(r["listen_backlog"])
    if backlog:
        parts = [f"{name} {' / '.join(sorted(backlog[key]))}" for key, name in BROKERS
                 if key in backlog]
        out.append("Listen backlog of the broker's listening socket(s) (`ss -lt` Send-Q): "
                   + ", ".join(parts) + ". When more handshakes are in flight than the "
                   "backlog holds, the kernel drops SYNs and the client retransmits after "
                   "1 s, which shows as a connect p99 near 1 s and a lower connect rate.")
    return out


def failures(d):
    out = []
    for sc in d.order:
        for key, name in BROKERS:
            for r in d.runs(sc, key):
                if r["exit"] == 0:
                    continue
                why = ""
                if r["result"] is not None:
                    why = r["result"].get("failure") or r["result"].get("first_error") or ""
                else:
                    why = (r["stderr"] or "no output").splitlines()[-1]
                out.append(f"{d.titles[sc]}, {name}, run {r['run']}: exit {r['exit']}"
                           + (f" ({why})" if why else ""))
    return out


def render(recs, meta):
    mach = machine()
    d = Data(recs)
    out = []
    out.append(BEGIN)
    out.append("")
    out.append(f"Generated by `bench/compare.sh` on {meta.get('date', '?')} in "
               f"{meta.get('elapsed_s', '?')} s: medians of {meta.get('runs', '?')} runs per "
               "broker and scenario, brokers run alternately (Starling first on odd runs, "
               "Mosquitto first on even ones), each started fresh for each run.")
    out.append("")
    out.append("**Machine.** "
               f"{mach['nproc']} CPUs ({mach['cpu']}), {mach['memory']} RAM, Linux "
               f"{mach['kernel']}, open-file limit {meta.get('nofile', '?')}. Load average "
               f"(1, 5, 15 min) before the runs {meta.get('loadavg', '?')}, after "
               f"{meta.get('loadavg_after', '?')}. Brokers and the load generator share these "
               "CPUs, and nothing stops other work on the machine (builds, tests) from taking "
               "some: single runs are noisy, which is why the tables give medians and the "
               "targets also count the runs that meet them on their own.")
    out.append("")
    out.append(f"**Brokers.** {meta.get('starling_version', '?')} "
               f"(`{meta.get('starling_bin', '?')}`, build type "
               f"{meta.get('starling_build_type', '?')}, source {meta.get('starling_git', '?')}, "
               f"`threads {meta.get('threads', '?')}` unless pinned); "
               f"{meta.get('mosquitto_version', '?')} (`{meta.get('mosquitto_bin', '?')}`, "
               "single-threaded by design).")
    out.append("")
    tt = targets_table(d)
    if tt:
        out.append("### Targets")
        out.append("")
        out.append("Ratio = Starling ÷ Mosquitto of the medians below. *Runs meeting it*: "
                   "runs with the same number (one of each broker, back to back) whose own "
                   "ratio meets the goal.")
        out.append("")
        out.extend(tt)
        out.append("")
    for g, title, cols, intro in GROUPS:
        scs = [sc for sc in d.order if d.group[sc] == g]
        if not scs:
            continue
        out.append(f"### {title}")
        out.append("")
        out.append(intro.replace("{duration}", str(meta.get("duration", "?"))))
        out.append("")
        out.extend(group_table(d, scs, cols))
        out.append("")
    out.append("*Delivered msg/s*: messages received by all subscribers per second of the "
               "measured interval (wall clock). *Broker CPU s*: user + system time of the "
               "broker process over the measured interval (from /proc/PID/stat; 10 ms ticks). "
               "*CPU µs/msg*: that CPU time divided by the messages delivered in the interval "
               "(the same number as CPU seconds per million delivered). *Latency*: receive "
               "time minus send time, messages sent in the interval. *Lost*: expected "
               "deliveries that never arrived after the drain (QoS 0: dropped by design when a "
               "subscriber falls behind). *Runs*: runs with a result / runs made. Ratios below "
               "1 are better for CPU, latency and memory, above 1 for rates.")
    out.append("")
    ch = checks(d)
    if ch:
        out.append("**Checks.**")
        out.append("")
        for c in ch:
            out.append(f"- {c}")
        out.append("")
    fl = failures(d)
    if fl:
        out.append("Runs that exited non-zero (starling-bench fails a run on any loss at "
                   "QoS ≥ 1, duplicates at QoS 2, connection or protocol errors):")
        out.append("")
        for f in fl:
            out.append(f"- {f}")
        out.append("")
    out.append("<details><summary>Exact commands and configurations</summary>")
    out.append("")
    out.append("```")
    out.append(f"{meta.get('env', '')} bench/compare.sh" + (" --write" if meta.get("write") else ""))
    out.append("```")
    out.append("")
    out.append("Per run (PORT and PID are the broker's; the one-core scenarios start the "
               "broker under `taskset` too):")
    out.append("")
    out.append("```")
    seen = set()
    for r in recs:
        if r["scenario"] in seen or r["broker"] != "starling":
            continue
        seen.add(r["scenario"])
        bc = r.get("broker_command") or ""
        out.append(r["command"] + (f"    # broker: {bc}" if "taskset" in bc else ""))
    out.append("```")
    for key, name in BROKERS:
        conf = meta.get(f"{key}_conf", "")
        out.append("")
        out.append(f"{name} configuration:")
        out.append("")
        out.append("```")
        out.append(conf.rstrip())
        out.append("```")
    if meta.get("notes"):
        out.append("")
        for n in meta["notes"]:
            out.append(f"- {n}")
    out.append("")
    out.append("</details>")
    out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


DOC_HEAD = """# Benchmarks

See the sections below the results for what is measured and how.

"""


def write_doc(path, section):
    try:
        with open(path, encoding="utf-8") as f:
            doc = f.read()
    except FileNotFoundError:
        doc = DOC_HEAD
    b, e = doc.find(BEGIN), doc.find(END)
    if b >= 0 and e > b:
        doc = doc[:b] + section.rstrip("\n") + doc[e + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Latest comparison\n\n" + section
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(doc)
    os.replace(tmp, path)


def cmd_table(a):
    recs = load(a.results)
    if not recs:
        print("report.py: no results in " + a.results, file=sys.stderr)
        return 1
    with open(a.meta, encoding="utf-8") as f:
        meta = json.load(f)
    section = render(recs, meta)
    sys.stdout.write(section)
    if a.write:
        write_doc(a.write, section)
        print(f"report.py: wrote the results section of {a.write}", file=sys.stderr)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("results")
    r.add_argument("--broker", required=True)
    r.add_argument("--scenario", required=True)
    r.add_argument("--group", default="max")
    r.add_argument("--title", default="")
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--exit", type=int, required=True)
    r.add_argument("--command", required=True)
    r.add_argument("--broker-command", default="")
    r.add_argument("--listen-backlog", default="")
    r.add_argument("--loadavg", default="")
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", required=True)
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--meta", required=True)
    t.add_argument("--write", metavar="FILE")
    a = p.parse_args()
    return cmd_record(a) if a.cmd == "record" else cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
