#!/usr/bin/env python3
"""Access-log lines in vigil's canonical JSON that raise one alert each.

Every line is a 2xx over plain http with its own token, so the builtin plaintext_http
check raises one alert per line (distinct entity, so no cooldown merges them). Tokens are
"vgtesttoken-<n>-<secret>": tests grep every output for the prefix to prove that no raw
token leaks. With --rate, lines are written at about that many per second (flushed), so
a replay from a pipe lasts long enough to stop servers in the middle of it.

usage: gen-traffic.py COUNT [--start N] [--rate LINES_PER_S]
"""
import argparse
import hashlib
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("count", type=int)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--rate", type=float, default=0)
a = ap.parse_args()

t0 = 1772445600000  # 2026-03-02T10:00:00Z
out = sys.stdout
began = time.monotonic()
for i in range(a.start, a.start + a.count):
    ms = t0 + i * 10
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
    secret = hashlib.sha256(b"%d" % i).hexdigest()[:20]
    out.write('{"time":"%s","client_ip":"198.51.100.%d","method":"GET","scheme":"http",'
              '"host":"api.example.com","path":"/v1/items/%d","status":200,'
              '"token":"vgtesttoken-%d-%s","request_id":"req-%d"}\n'
              % (ts, i % 250 + 1, i, i, secret, i))
    if a.rate > 0 and i % 10 == 9:
        out.flush()
        ahead = (i - a.start + 1) / a.rate - (time.monotonic() - began)
        if ahead > 0:
            time.sleep(ahead)
out.flush()
