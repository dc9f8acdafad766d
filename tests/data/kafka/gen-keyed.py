#!/usr/bin/env python3
"""gen-keyed.py — canonical vigil JSON access-log lines, keyed for Kafka, for the Kafka
integration tests.

Output lines are KEY<TAB>JSON (kcat -K '\t' splits them). The key is the token, as the
README asks shippers to key messages, and every token has its own client IPs, so every
entity a rule or model can alert on lives in one partition: the alerts of `vigil run`
over any partitioning must then equal those of `vigil replay` over the file. About 2 % of
requests go over plain HTTP; the 2xx ones raise the builtin plaintext_http alert (and the
plain_http_api Sigma rule). Same arguments, same bytes.

usage: gen-keyed.py LINES [SEED] [FIRST_INDEX]
"""
import datetime
import json
import random
import sys

n = int(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
rnd = random.Random(seed)
tokens = ["tk_%04d_%08x" % (i, rnd.getrandbits(32)) for i in range(200)]
T0 = 1772445600000  # 2026-03-02T10:00:00Z
for i in range(first, first + n):
    ti = rnd.randrange(len(tokens))
    ms = T0 + i * 50
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    line = {
        "time": t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000),
        "client_ip": "10.%d.%d.%d" % (ti // 250, ti % 250, rnd.randint(1, 3)),
        "method": "GET",
        "scheme": "http" if rnd.random() < 0.02 else "https",
        "host": "api.example.com",
        "path": "/v1/items/%d" % rnd.randint(1, 999),
        "status": rnd.choice([200, 200, 200, 201, 404, 500]),
        "token": tokens[ti],
        "request_id": "req-%08d" % i,
    }
    print(tokens[ti] + "\t" + json.dumps(line, separators=(",", ":")))
