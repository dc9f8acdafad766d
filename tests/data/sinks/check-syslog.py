#!/usr/bin/env python3
"""Checks what rsyslog parsed from vigil's syslog sinks against the alerts vigil raised.

usage: check-syslog.py REFERENCE_JSON_LINES RSYSLOG_OUT INPUT [--once] [--facility N]
RSYSLOG_OUT lines: inputname|pri|app-name|procid|msgid|structured-data|msg (the template in
lib.sh). For every reference alert, a message from INPUT (imudp or imtcp) must be there
with PRI = facility*8 + mapped severity, APP-NAME vigil, MSGID the rule id (printable
ASCII, 32 chars at most), the SD element's params equal to the alert's fields, and MSG the
alert JSON byte for byte. --once: no alert twice. Prints a summary; exits 1 on a mismatch.
"""
import argparse
import json
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("ref")
ap.add_argument("out")
ap.add_argument("input")
ap.add_argument("--once", action="store_true")
ap.add_argument("--facility", type=int, default=16)
a = ap.parse_args()

SEV = {0: 6, 1: 5, 2: 4, 3: 3, 4: 2}
NAMES = {0: "informational", 1: "low", 2: "medium", 3: "high", 4: "critical"}
ref = {}
for line in open(a.ref):
    line = line.rstrip("\n")
    ref[json.loads(line)["event"]["id"]] = line


def sd_params(sd):
    m = re.fullmatch(r'\[vigil@(\d+)((?: [a-z_]+="(?:[^"\\\]]|\\.)*")*)\]', sd)
    if not m:
        return None, None
    params = {}
    for k, v in re.findall(r' ([a-z_]+)="((?:[^"\\\]]|\\.)*)"', m.group(2)):
        params[k] = re.sub(r"\\(.)", r"\1", v)
    return m.group(1), params


seen = {}
errors = []
for raw in open(a.out, encoding="utf-8", errors="replace"):
    raw = raw.rstrip("\n")
    parts = raw.split("|", 6)
    if len(parts) != 7 or parts[0] != a.input:
        continue
    inp, pri, app, procid, msgid, sd, msg = parts
    pen, params = sd_params(sd)
    if params is None:
        errors.append("unparsable structured data: " + sd[:200])
        continue
    eid = params.get("id")
    if eid not in ref:
        errors.append("unexpected id %s" % eid)
        continue
    seen[eid] = seen.get(eid, 0) + 1
    al = json.loads(ref[eid])
    sev = al["event"]["severity"]
    ent = al["vigil"]["entity"]
    rule = al["rule"]["id"]
    want_msgid = "".join(c for c in rule if 33 <= ord(c) <= 126)[:32] or "-"
    want = {
        "pri": str(a.facility * 8 + SEV[sev]),
        "app": "vigil",
        "msgid": want_msgid,
        "pen": "32473",
        "msg": ref[eid],
    }
    got = {"pri": pri, "app": app, "msgid": msgid, "pen": pen, "msg": msg}
    for k in want:
        if want[k] != got[k]:
            errors.append("%s: %s is %r, want %r" % (eid, k, got[k][:120], want[k][:120]))
    want_p = {"id": eid, "rule": rule, "severity": NAMES[sev], "entity": ent["type"]}
    if ent.get("token_id"):
        want_p["token_id"] = ent["token_id"]
    ip = al.get("source", {}).get("ip") or ent.get("client_ip")
    if ip:
        want_p["client_ip"] = ip
    for k, v in want_p.items():
        if params.get(k) != v:
            errors.append("%s: SD param %s is %r, want %r" % (eid, k, params.get(k), v))
    if "score" not in params:
        errors.append("%s: no score param" % eid)
    if not procid.isdigit():
        errors.append("%s: PROCID %r" % (eid, procid))

missing = [i for i in ref if i not in seen]
dups = [i for i, n in seen.items() if n > 1]
print("%s: %d alerts expected, %d received, %d missing, %d duplicated, %d errors"
      % (a.input, len(ref), len(seen), len(missing), len(dups), len(errors)), file=sys.stderr)
for e in errors[:5]:
    print("  " + e, file=sys.stderr)
if missing:
    print("  missing e.g. " + " ".join(missing[:3]), file=sys.stderr)
sys.exit(1 if errors or missing or (a.once and dups) else 0)
