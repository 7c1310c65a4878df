#!/usr/bin/env python3
"""Derives a Zeek passive_recon TSV log from IVRE's golden passive records.

Usage: make_zeek_fixture.py GOLDEN.jsonl.gz NTLM_HTTP.pcap > zeek/passive_recon.log

Every golden record (except p0f ones, and NTLM_*_FLAGS records that IVRE
derives from HTTP headers) becomes `count` log lines (count-1 at firstseen,
one at lastseen), written in the form Zeek's passiverecon script writes
them, i.e. with IVRE's ingest normalisation reversed: raw JA3/HASSH strings,
ja3-<client raw> sources, DNSBL records as DNS answers, full base64
certificates, Zeek-escaped banners with the variable parts IVRE
canonicalises put back, and real NTLM HTTP headers from the capture. The
golden times are the local time (Europe/Paris) of IVRE's test run; they are
converted back to epoch seconds. One block of header lines per recontype
(concatenated logs).
"""
import base64
import datetime
import gzip
import hashlib
import json
import re
import struct
import sys
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def epoch(s):
    dt = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=PARIS)
    return "%.6f" % dt.timestamp()


def nmap_decode(s):
    out = bytearray()
    i = 0
    simple = {"\\": 0x5C, "r": 13, "n": 10, "t": 9, "0": 0, '"': 0x22}
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            c = s[i + 1]
            if c in simple:
                out.append(simple[c])
                i += 2
                continue
            if c == "x" and re.match(r"[0-9a-fA-F]{2}", s[i + 2 : i + 4]):
                out.append(int(s[i + 2 : i + 4], 16))
                i += 4
                continue
        out += s[i].encode()
        i += 1
    return bytes(out)


def zeek_encode(b):
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


BANNER_UNDO = [
    ("in00", "in17"),
    ("xx000-v6si00000000xxx.000", "s62-v6si5357435wme.84 - gsmtp"),
    ("Thu, 1 Jan 1970 00:00:00", "Mon, 14 May 2018 15:24:47"),
    ("mta0000.", "mta4255."),
    ("user number 1 of", "user number 7 of"),
    ("Local time is now 00:00", "Local time is now 17:50"),
]


def undo_banner(value):
    data = nmap_decode(value)
    for canon, orig in BANNER_UNDO:
        data = data.replace(canon.encode(), orig.encode())
    data = re.sub(
        rb"([A-Z]{2})0([A-Z]{3})00([A-Z]{2})000(\.mail\.protection\.outlook\.com)",
        rb"\g<1>1\g<2>01\g<3>003\g<4>",
        data,
    )
    m = re.match(rb"(?s)(.\x00\x00\x00\x0a[0-9][^\x00]*\x00)\x00{13}(.{18})\x00{13}", data)
    if m:
        data = (
            m.group(1)
            + b"\x07\x01\x00\x00" + b"abcdefgh" + b"\x00"
            + m.group(2)
            + b"ijklmnopqrst" + b"\x00"
            + data[m.end():]
        )
    return zeek_encode(data)


def ntlm_headers(pcap):
    data = open(pcap, "rb").read()
    hdrs = re.findall(rb"(Authorization|WWW-Authenticate): NTLM ([A-Za-z0-9+/=]+)", data)
    type2 = {}
    type3 = None
    for name, b64 in hdrs:
        raw = base64.b64decode(b64)
        mtype = struct.unpack("<I", raw[8:12])[0]
        if mtype == 2:
            ln, _, off = struct.unpack("<HHI", raw[12:20])
            flags = struct.unpack("<I", raw[20:24])[0]
            tname = raw[off : off + ln]
            tname = tname.decode("utf-16-le") if flags & 1 else tname.decode()
            type2[tname] = "NTLM " + b64.decode()
        elif mtype == 3 and type3 is None:
            type3 = "NTLM " + b64.decode()
    return type2, type3


def reverse_ip(addr):
    if ":" in addr:
        import ipaddress

        nib = ipaddress.ip_address(addr).exploded.replace(":", "")
        return ".".join(reversed(nib))
    return ".".join(reversed(addr.split(".")))


def main():
    golden, pcap = sys.argv[1], sys.argv[2]
    type2, type3 = ntlm_headers(pcap)
    blocks = {}
    for line in gzip.open(golden, "rt"):
        r = json.loads(line)
        rt, src, val = r["recontype"], r.get("source"), r["value"]
        infos = r.get("infos", {})
        host, tgt = r.get("addr"), r.get("targetval")
        if rt.startswith("P0FV3"):
            continue
        if rt in ("NTLM_CLIENT_FLAGS", "NTLM_SERVER_FLAGS") and not src.startswith("tcp"):
            continue
        if rt == "SSL_CLIENT" and src == "ja3":
            val = infos["raw"]
        elif rt == "SSL_SERVER" and src.startswith("ja3-"):
            src = "ja3-" + infos["client"]["raw"]
            val = infos["raw"]
        elif rt == "SSL_SERVER" and src in ("cert", "cacert"):
            val = r.get("fullvalue", val)
        elif rt.endswith("_HASSH"):
            val = infos["raw"]
        elif rt == "DNS_BLACKLIST":
            zone, rest = src.split("-", 1)
            rt, src = "DNS_ANSWER", rest
            val, host = reverse_ip(host) + "." + zone, r["value"]
        elif rt == "TCP_SERVER_BANNER":
            val = undo_banner(val)
        elif src in ("AUTHORIZATION", "PROXY-AUTHORIZATION"):
            if val == "":
                val = "NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA="
            elif val.startswith("NTLM User_Name:"):
                val = type3
        elif src == "WWW-AUTHENTICATE" and val.startswith("NTLM Target_Name:"):
            tname = base64.b64decode(val.split(",")[0].split(":")[1]).decode()
            val = type2[tname]
        times = [r["firstseen"]] * (r["count"] - 1) + [r["lastseen"]]
        uid = "-" if rt == "MAC_ADDRESS" else "C" + hashlib.md5(line.encode()).hexdigest()[:17]
        for ts in times:
            fields = [
                epoch(ts),
                uid,
                host or "-",
                str(r["port"]) if "port" in r else "-",
                "PassiveRecon::" + rt,
                "-" if src is None else (src or "(empty)"),
                val if val != "" else "(empty)",
                "-" if tgt is None else (tgt or "(empty)"),
            ]
            blocks.setdefault(rt, []).append("\t".join(fields))
    out = sys.stdout
    for rt in sorted(blocks):
        out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
        out.write("#path\tpassive_recon\n#open\t2021-01-06-17-44-23\n")
        out.write("#fields\tts\tuid\thost\tsrvport\trecon_type\tsource\tvalue\ttargetval\n")
        out.write("#types\ttime\tstring\taddr\tport\tenum\tstring\tstring\tstring\n")
        for l in blocks[rt]:
            out.write(l + "\n")
        out.write("#close\t2021-01-06-17-44-30\n")


main()
