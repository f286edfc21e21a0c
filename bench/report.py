#!/usr/bin/python3
"""report.py - the bookkeeping half of bench/compare.sh (Python standard library only).

  report.py record RESULTS.jsonl --broker B --scenario S --title T --run N --exit RC
                   --command CMD --stdout FILE --stderr FILE
      appends one run (starling-bench's --json object, or why there is none)

  report.py table RESULTS.jsonl --meta META.json [--write docs/BENCHMARKS.md]
      medians per (scenario, broker), Starling/Mosquitto ratios, a Markdown
      section on stdout; with --write it replaces the section between the
      markers in the given file (creating the file or the markers if needed)

Every number in the table comes from RESULTS.jsonl; nothing is typed in.
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
        "title": a.title,
        "run": a.run,
        "exit": a.exit,
        "command": a.command,
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


def lat(res, key):
    l = res.get("latency_us") or {}
    return l.get(key) if l.get("samples") else None


def metrics(res):
    """The table's columns for one run."""
    loss = res.get("lost")
    if loss is None:
        loss = res.get("dropped")
    return {
        "rate": res.get("delivery_rate"),
        "cpu_s": res.get("broker_cpu_s"),
        "cpu_us": res.get("broker_cpu_us_per_msg"),
        "p50": lat(res, "p50"),
        "p99": lat(res, "p99"),
        "loss": loss,
    }


def fmt_rate(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_num(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_us(v):
    if v is None:
        return "–"
    if v < 1000:
        return f"{v:.0f} µs"
    if v < 1e6:
        return f"{v / 1000:.1f} ms"
    return f"{v / 1e6:.2f} s"


def fmt_ratio(s, m):
    if s is None or m is None or m == 0:
        return "–"
    return f"×{s / m:.2f}"


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


def table(recs):
    scen_order = []
    titles = {}
    for r in recs:
        if r["scenario"] not in titles:
            scen_order.append(r["scenario"])
            titles[r["scenario"]] = r.get("title") or r["scenario"]

    lines = []
    lines.append("| Scenario | Broker | Delivered msg/s | Broker CPU s | CPU µs/msg "
                 "| p50 latency | p99 latency | Lost (QoS 0: dropped) | Runs |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    failures = []
    for sc in scen_order:
        med = {}
        for key, name in BROKERS:
            rs = [r for r in recs if r["scenario"] == sc and r["broker"] == key]
            ok = [r for r in rs if r["result"] is not None]
            for r in rs:
                if r["exit"] != 0:
                    why = ""
                    if r["result"] is not None:
                        why = r["result"].get("failure") or r["result"].get("first_error") or ""
                    else:
                        why = (r["stderr"] or "no output").splitlines()[-1]
                    failures.append(f"{titles[sc]}, {name}, run {r['run']}: exit {r['exit']}"
                                    + (f" ({why})" if why else ""))
            ms = [metrics(r["result"]) for r in ok]
            med[key] = {k: median([m[k] for m in ms]) for k in
                        ("rate", "cpu_s", "cpu_us", "p50", "p99", "loss")}
            m = med[key]
            loss = "–" if m["loss"] is None else f"{m['loss']:,.0f}"
            lines.append(f"| {titles[sc] if key == 'starling' else ''} | {name} "
                         f"| {fmt_rate(m['rate'])} | {fmt_num(m['cpu_s'])} "
                         f"| {fmt_num(m['cpu_us'])} | {fmt_us(m['p50'])} | {fmt_us(m['p99'])} "
                         f"| {loss} | {len(ok)}/{len(rs)} |")
        s, mq = med["starling"], med["mosquitto"]
        lines.append(f"| | *Starling / Mosquitto* | *{fmt_ratio(s['rate'], mq['rate'])}* "
                     f"| *{fmt_ratio(s['cpu_s'], mq['cpu_s'])}* "
                     f"| *{fmt_ratio(s['cpu_us'], mq['cpu_us'])}* "
                     f"| *{fmt_ratio(s['p50'], mq['p50'])}* "
                     f"| *{fmt_ratio(s['p99'], mq['p99'])}* | | |")
    return lines, failures


def render(recs, meta):
    mach = machine()
    lines, failures = table(recs)
    out = []
    out.append(BEGIN)
    out.append("")
    out.append(f"Generated by `bench/compare.sh` on {meta.get('date', '?')}: medians of "
               f"{meta.get('runs', '?')} runs per broker and scenario, brokers run "
               f"alternately (Starling first on odd runs, Mosquitto first on even ones), "
               f"each started fresh for each run.")
    out.append("")
    out.append("**Machine.** "
               f"{mach['nproc']} CPUs ({mach['cpu']}), {mach['memory']} RAM, Linux "
               f"{mach['kernel']}. Load average (1, 5, 15 min) before the runs "
               f"{meta.get('loadavg', '?')}, after {meta.get('loadavg_after', '?')}. "
               "Brokers and the load generator share these CPUs, and nothing stops other "
               "work on the machine from taking some.")
    out.append("")
    out.append(f"**Brokers.** {meta.get('starling_version', '?')} "
               f"(`{meta.get('starling_bin', '?')}`, build type "
               f"{meta.get('starling_build_type', '?')}, `threads {meta.get('threads', '?')}`); "
               f"{meta.get('mosquitto_version', '?')} (`{meta.get('mosquitto_bin', '?')}`, "
               "single-threaded by design).")
    out.append("")
    out.extend(lines)
    out.append("")
    out.append("*Delivered msg/s*: messages received by all subscribers per second of the "
               "measured interval. *Broker CPU s*: user + system time of the broker process "
               "over the measured interval (from /proc/PID/stat; 10 ms ticks). *CPU µs/msg*: "
               "that CPU time divided by the messages delivered in the interval. *Latency*: "
               "receive time minus send time, messages sent in the interval; at max rate it "
               "is mostly queueing in socket buffers and broker queues, so compare it only "
               "between runs of the same scenario. *Lost*: expected deliveries that never "
               "arrived after the drain (QoS 0: dropped by design when a subscriber falls "
               "behind). *Runs*: runs with a result / runs made. Ratios below 1 are better "
               "for CPU and latency, above 1 for msg/s.")
    out.append("")
    if failures:
        out.append("Runs that exited non-zero (starling-bench fails a run on any loss at "
                   "QoS ≥ 1, duplicates at QoS 2, connection or protocol errors):")
        out.append("")
        for f in failures:
            out.append(f"- {f}")
        out.append("")
    out.append("<details><summary>Exact commands and configurations</summary>")
    out.append("")
    out.append("```")
    out.append(f"RUNS={meta.get('runs', '?')} DURATION={meta.get('duration', '?')} "
               f"THREADS={meta.get('threads', '?')} BENCH_THREADS={meta.get('bench_threads', '?')} "
               "bench/compare.sh" + (" --write" if meta.get("write") else ""))
    out.append("```")
    out.append("")
    out.append("Per run (PORT and PID are the broker's):")
    out.append("")
    out.append("```")
    seen = set()
    for r in recs:
        if r["scenario"] in seen or r["broker"] != "starling":
            continue
        seen.add(r["scenario"])
        out.append(r["command"])
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
    r.add_argument("--title", default="")
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--exit", type=int, required=True)
    r.add_argument("--command", required=True)
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
