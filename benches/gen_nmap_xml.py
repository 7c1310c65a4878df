#!/usr/bin/env python3
"""Writes a large Nmap XML file: the <host> elements of the sample Nmap scans,
repeated with fresh IPv4 addresses. Usage: gen_nmap_xml.py N OUT.xml"""
import bz2, re, sys, pathlib

N, out = int(sys.argv[1]), sys.argv[2]
data = pathlib.Path(__file__).resolve().parent.parent / "tests/data/ivre-samples"
hosts = []
for name in ["nmap-ntlm-all.xml.bz2", "nmap-ntlm-smb.xml.bz2"]:
    text = bz2.decompress((data / name).read_bytes()).decode()
    hosts += re.findall(r"<host[ >].*?</host>", text, flags=re.S)
addr_re = re.compile(r'<address addr="[0-9.]+" addrtype="ipv4"/>')
with open(out, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<nmaprun scanner="nmap" args="nmap -sV -sC -O" start="1600000000" version="7.94" xmloutputversion="1.05">\n')
    for i in range(N):
        a = 0x0A000000 + i
        ip = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
        f.write(addr_re.sub(f'<address addr="{ip}" addrtype="ipv4"/>', hosts[i % len(hosts)], count=1))
        f.write("\n")
    f.write('<runstats><finished time="1600003600" elapsed="3600" exit="success"/></runstats>\n</nmaprun>\n')
