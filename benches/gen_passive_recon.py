#!/usr/bin/env python3
"""Generates a large Zeek passive_recon.log for benchmarks, and the same rows
as a TSV for a raw COPY into a table shaped like `passive`.

Every line is one of the data lines of the fixture (tests/data/passive/zeek/
passive_recon.log, so every recon type in its natural proportion), with a new
timestamp and, when the line has a host, a host drawn from a pool:

* --mode dup (realistic duplication): a pool of --hosts addresses (default
  50 000), each address only ever showing --per-host (default 8) of the line
  shapes, as a real host shows the same few services again and again;
* --mode unique (little duplication): any line shape with any of 2^24
  addresses.

Usage: gen_passive_recon.py FIXTURE LINES OUT.log OUT.tsv [--mode dup|unique]
"""

import argparse
import hashlib
import json
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("lines", type=int)
    ap.add_argument("log")
    ap.add_argument("tsv")
    ap.add_argument("--mode", choices=["dup", "unique"], default="dup")
    ap.add_argument("--hosts", type=int, default=50_000)
    ap.add_argument("--per-host", type=int, default=8)
    ap.add_argument("--sensor", default="BENCH")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    header, shapes = [], []
    with open(a.fixture, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                if not shapes and not line.startswith("#close"):
                    header.append(line)
                continue
            fields = line.split("\t")
            if len(fields) != 8:
                continue
            shapes.append(fields)
    nshapes = len(shapes)

    def copy_text(v):
        if v == "-":
            return "\\N"
        if v == "(empty)":
            v = ""
        return v.replace("\\", "\\\\")

    def suffixes(name):
        out, rest = [], name.rstrip(".")
        while rest:
            out.append(rest)
            if "." not in rest:
                break
            rest = rest.split(".", 1)[1]
        return out

    t0 = 1_600_000_000.0
    last_sec, day = None, ""
    with open(a.log, "w", encoding="utf-8", errors="surrogateescape") as log, open(
        a.tsv, "w", encoding="utf-8", errors="surrogateescape"
    ) as tsv:
        log.write("\n".join(header) + "\n")
        for i in range(a.lines):
            if a.mode == "dup":
                h = rnd.randrange(a.hosts)
                shape = shapes[(h * 7919 + rnd.randrange(a.per_host) * 104729) % nshapes]
                addr = "10.%d.%d.%d" % (h >> 16 & 255, h >> 8 & 255, h & 255)
            else:
                shape = shapes[rnd.randrange(nshapes)]
                h = rnd.getrandbits(24)
                addr = "11.%d.%d.%d" % (h >> 16, h >> 8 & 255, h & 255)
            ts, uid, host, port, rtype, source, value, target = shape
            if host == "-":
                addr = "-"
            elif ":" in host:
                addr = "2001:db8::%x:%x" % (h >> 16, h & 0xFFFF)
            ts = t0 + i * 0.001
            log.write(
                "%.6f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n"
                % (ts, uid, addr, port, rtype, source, value, target)
            )
            rt = rtype.replace("PassiveRecon::", "")
            infos = "\\N"
            if rt == "DNS_ANSWER":
                infos = json.dumps({"domain": suffixes(value)}).replace("\\", "\\\\")
            sec = int(ts)
            if sec != last_sec:
                last_sec, day = sec, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
            when = "%s.%06d+00" % (day, round((ts - sec) * 1e6) % 1_000_000)
            tsv.write(
                "\\\\x%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t1\t%s\t%s\t%s\t3\n"
                % (
                    hashlib.sha256(b"%d" % i).hexdigest(),
                    copy_text(addr),
                    a.sensor,
                    rt,
                    copy_text(source),
                    copy_text(port.split("/")[0]),
                    copy_text(value),
                    copy_text(target) if addr == "-" else "\\N",
                    when,
                    when,
                    infos,
                )
            )


if __name__ == "__main__":
    main()
