#!/usr/bin/env python3
"""Sends NetFlow v5 packets to a collector (nfcapd) on 127.0.0.1: RECORDS
connections with the shapes of benches/flow.sh's generated conn.log (the
same clients, servers, ports and time span), one record client -> server
and one server -> client per connection.

    benches/netflow_v5.py RECORDS PORT
"""
import random
import socket
import struct
import sys
import time

PORTS = [80, 443, 53, 22, 25, 123, 8080, 3306, 5432, 27017, 389, 445]
PROTOS = [6, 6, 17, 6, 6, 17, 6, 6, 6, 6, 6, 6]


def main():
    n, port = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(42)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0, span = 1573000000, 30 * 86400
    uptime = 3_600_000  # ms
    records, seq = [], 0

    def flush(ts):
        nonlocal records, seq
        head = struct.pack("!HHIIIIBBH", 5, len(records), uptime, ts, 0, seq, 0, 0, 0)
        sock.sendto(head + b"".join(records), ("127.0.0.1", port))
        seq += len(records)
        records = []

    sent = 0
    for i in range(n):
        c = int(rnd.random() * rnd.random() * 20000)
        s = (c * 37 + int(rnd.random() * 4)) % 2000
        p = (c + s) % 12
        if rnd.random() < 0.3:
            p = (p + 1) % 12
        ts = t0 + i * span // n
        ob, rb = int(rnd.random() * 2000), int(rnd.random() * 50000)
        op, rp = ob // 500 + 1, rb // 1400 + 1
        dur = int(rnd.random() * 5000)
        cli = (10 << 24) | ((c >> 16) << 16) | (((c >> 8) & 255) << 8) | (c & 255)
        srv = (172 << 24) | (16 << 16) | ((s >> 8) << 8) | (s & 255)
        sport = 32768 + int(rnd.random() * 28000)
        first, last = uptime - dur - 1000, uptime - 1000
        for a, b, pa, pb, pk, by in ((cli, srv, sport, PORTS[p], op, ob + 40 * op),
                                     (srv, cli, PORTS[p], sport, rp, rb + 40 * rp)):
            records.append(struct.pack("!IIIHHIIIIHHBBBBHHBBH", a, b, 0, 0, 0, pk, by,
                                       first, last, pa, pb, 0, 0x1b, PROTOS[p], 0,
                                       0, 0, 0, 0, 0))
            if len(records) == 30:
                flush(ts)
                sent += 1
                if sent % 50 == 0:
                    time.sleep(0.002)  # the collector's pace: UDP drops otherwise
    if records:
        flush(t0 + span)


if __name__ == "__main__":
    main()
