#!/usr/bin/env python3
"""Writes N Zgrab2 NDJSON records: the real samples of tests/data/zgrab2/
(taken in turn), each with a fresh address (10.0.0.0/8, then 172.16/12).

Usage: gen_zgrab2.py N OUT
"""
import glob
import json
import os
import sys

n, out = int(sys.argv[1]), sys.argv[2]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "zgrab2")
samples = []
for path in sorted(glob.glob(os.path.join(root, "*.json"))):
    with open(path) as f:
        rec = json.loads(f.readline())
    if "ip" in rec:
        samples.append(rec)
with open(out, "w") as f:
    for i in range(n):
        rec = samples[i % len(samples)]
        a = 10 * (1 << 24) + i
        rec["ip"] = "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        f.write(json.dumps(rec, separators=(",", ":")))
        f.write("\n")
