#!/usr/bin/env python3
"""Writes small seed inputs for the fuzz targets from the test data: small
inputs run much faster under the sanitizer, and each one still reaches the
interesting code (one complete host, a header and a few lines)."""
import bz2, gzip, hashlib, pathlib, re, sys

data = pathlib.Path(sys.argv[1])
out = pathlib.Path(sys.argv[2])


def read(p):
    b = p.read_bytes()
    if p.suffix == ".bz2":
        return bz2.decompress(b)
    if p.suffix == ".gz":
        return gzip.decompress(b)
    return b


def put(target, blob):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(blob).hexdigest()[:16]).write_bytes(blob)


# Scan input: each Nmap/Masscan <host> in its own document, JSON lines alone.
for p in sorted((data / "ivre-samples").iterdir()):
    if p.name == "LICENSE":
        continue
    text = read(p)
    if text.lstrip().startswith(b"<"):
        head = re.search(rb"<nmaprun[^>]*>", text)
        head = head.group(0) if head else b"<nmaprun>"
        for host in re.findall(rb"<host[ >].*?</host>", text, flags=re.S)[:40]:
            put("scan_input", b'<?xml version="1.0"?>\n' + head + b"\n" + host + b"\n</nmaprun>\n")
    else:
        for line in text.splitlines()[:40]:
            put("scan_input", line + b"\n")
# The NDJSON of other scanners (Zgrab2, Nuclei, httpx, tlsx, dnsx): one line each.
for tool in ("zgrab2", "nuclei", "httpx", "tlsx", "dnsx"):
    for p in sorted((data / tool).glob("*.json")):
        for line in read(p).splitlines():
            put("scan_input", line + b"\n")
for line in read(data / "golden" / "ivre-nmap-records.jsonl.gz").splitlines()[:200]:
    if len(line) < 20000:
        put("scan_input", line + b"\n")


# Line formats: the header lines and chunks of a few data lines.
def chunks(target, p, size, header_prefix=None):
    lines = read(p).splitlines(keepends=True)
    header = [l for l in lines if header_prefix and l.startswith(header_prefix)]
    body = [l for l in lines if not (header_prefix and l.startswith(header_prefix))]
    for i in range(0, min(len(body), 400), size):
        put(target, b"".join(header + body[i:i + size]))


for p in sorted((data / "passive" / "zeek").iterdir()):
    if p.suffix in (".log", ".gz", ".bz2") or p.name.endswith(".log"):
        chunks("zeek", p, 4, b"#")
for p in sorted((data / "passive" / "p0f").iterdir()):
    if p.name != "LICENSE":
        chunks("p0f", p, 4)
for p in sorted((data / "passive" / "airodump").iterdir()):
    if p.suffix == ".csv":
        put("airodump", read(p)[:8000])


# MaxMind DB files: MaxMind's test databases, sound and broken.
for p in sorted((data / "geoip").iterdir()):
    if p.suffix == ".mmdb":
        put("mmdb", p.read_bytes())

# Passive filter values (a value, then on a second line the extra part).
for v in ["/^www\\./i", "example.com", "a,b", "-", "10.0.0.0/8", "10.0.0.1-10.0.0.9", "tcp/443",
          "http:Apache httpd:80", "ssh:OpenSSH:7.4:22", "00:11:22:33:44:55", "/^00:11/",
          "3ad5d4e8a5b2e1d1b3f0a8c9d7e6f5a4", "t13d1516h2_8daaf6152771_b186095e22b6",
          "t13d1516h2_002f,0035,009c_0005,000a,000b", "2024-01-01 10:00", "1d",
          "example.com\nA", "/x/\nservice.name", "/^769,/\n/^771,/",
          "da:39:a3:ee:5e:6b:4b:0d:32:55:bf:ef:95:60:18:90:af:d8:07:09"]:
    put("passive_filter", v.encode())
