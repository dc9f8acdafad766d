#!/usr/bin/env python3
"""check-format.py — strict, independent parser of gen-traffic's output, per gateway format.

Used by tests/functional/test-gen-traffic.sh. It does not trust the generator: text
formats are matched with the full-line regex of the gateway's documented layout, JSON
formats are parsed with json and their required keys and types checked. Every line is
reduced to (time_ms, client_ip, method, path, status, token_identity, request_id) so the
test can compare formats with one another and the labels with the lines.

usage: check-format.py FORMAT FILE [LABELS]   (FILE may be .gz)
Prints one summary line; exits 1 with the first offending line on any error.
"""
import base64
import calendar
import gzip
import ipaddress
import json
import re
import sys
import time

MON = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                   "Sep", "Oct", "Nov", "Dec"), 1)}
ALLOWED_NETS = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "10.0.0.0/8")]
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

# nginx: $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
#        "$http_referer" "$http_user_agent"   (escape=default: \xHH inside quotes)
Q = r'((?:[^"\\]|\\x[0-9A-F]{2})*)'
NGINX = re.compile(r'^(\S+) - (\S+) \[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\] '
                   r'"(\S+) (\S+) (HTTP/\d\.\d)" (\d{3}) (\d+) "' + Q + r'" "' + Q + r'"$')
# apache: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"   (%b is "-" for 0)
QA = r'((?:[^"\\]|\\"|\\\\|\\x[0-9a-f]{2})*)'
APACHE = re.compile(r'^(\S+) (\S+) (\S+) \[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) '
                    r'([+-]\d{4})\] "(\S+) (\S+) (HTTP/\d\.\d)" (\d{3}) (\d+|-) "' + QA +
                    r'" "' + QA + r'"$')
# envoy default: [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
# %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
# %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
# "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
ENVOY = re.compile(r'^\[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z\] '
                   r'"(\S+) (\S+) (HTTP/1\.1|HTTP/2|HTTP/1\.0)" (\d{3}) ([A-Z,]+|-) (\d+) (\d+) '
                   r'(\d+) (\d+|-) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$')
ISO_MS = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$')
UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def iso_ms(s):
    m = ISO_MS.match(s)
    need(m, "bad ISO time %r" % s)
    y, mo, d, h, mi, se, frac = m.groups()
    ms = int((frac or "0")[:3].ljust(3, "0"))
    return calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se))) * 1000 + ms


def clf_ms(d, mon, y, h, mi, s, off):
    need(mon in MON, "bad month")
    need(off == "+0000", "unexpected offset %s" % off)
    return calendar.timegm((int(y), MON[mon], int(d), int(h), int(mi), int(s))) * 1000


def check_ip(ip):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        raise Bad("bad IP %r" % ip)
    need(any(a in n for n in ALLOWED_NETS), "IP outside documentation/private ranges: %s" % ip)
    return ip


def req_path(target):
    need(target.startswith("/"), "request target not a path: %r" % target)
    return target.split("?", 1)[0]


def parse_nginx(line):
    m = NGINX.match(line)
    need(m, "does not match nginx combined")
    g = m.groups()
    need(g[9] in METHODS, "method")
    return (clf_ms(*g[2:9]), check_ip(g[0]), g[9], req_path(g[10]), int(g[12]),
            None if g[1] == "-" else g[1], None)


def parse_apache(line):
    m = APACHE.match(line)
    need(m, "does not match apache combined")
    g = m.groups()
    need(g[1] == "-", "%l must be -")
    need(g[10] in METHODS, "method")
    need(g[14] == "-" or int(g[14]) > 0, "%b must be '-' for 0")
    return (clf_ms(*g[3:10]), check_ip(g[0]), g[10], req_path(g[11]), int(g[13]),
            None if g[2] == "-" else g[2], None)


def parse_envoy(line):
    m = ENVOY.match(line)
    need(m, "does not match envoy default format")
    g = m.groups()
    t = calendar.timegm(tuple(int(x) for x in g[:6])) * 1000 + int(g[6])
    need(g[7] in METHODS, "method")
    need(UUID.match(g[18]), "x-request-id not a UUID")
    return (t, check_ip(g[16]), g[7], req_path(g[8]), int(g[10]), None, g[18])


def jget(o, path, typ):
    for k in path.split("."):
        need(isinstance(o, dict) and k in o, "missing key %s" % path)
        o = o[k]
    need(isinstance(o, typ), "key %s has type %s" % (path, type(o).__name__))
    return o


def jwt_sub(tok):
    """A JWT credential is known by its subject claim (as vigil's decoders do)."""
    if tok and tok.startswith("ey") and tok.count(".") == 2:
        body = tok.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["sub"]
    return tok


def parse_vigil(line):
    o = json.loads(line)
    t = iso_ms(jget(o, "time", str))
    need(UUID.match(jget(o, "request_id", str)), "request_id")
    for k, typ in (("method", str), ("scheme", str), ("host", str), ("path", str),
                   ("status", int), ("bytes_in", int), ("bytes_out", int),
                   ("latency_ms", (int, float)), ("user_agent", str)):
        jget(o, k, typ)
    need(o["scheme"] in ("http", "https"), "scheme")
    need(set(o) <= {"time", "request_id", "client_ip", "method", "scheme", "host", "path",
                    "query", "status", "bytes_in", "bytes_out", "latency_ms", "user_agent",
                    "referer", "token", "user"}, "unknown key")
    return (t, check_ip(o["client_ip"]), o["method"], o["path"], o["status"], jwt_sub(o.get("token")),
            o["request_id"])


def parse_kong(line):
    need('\\/' in line and '"/' not in line, "lua-cjson writes '/' as '\\/'")
    o = json.loads(line)
    t = jget(o, "started_at", int)
    req = jget(o, "request", dict)
    need(jget(req, "method", str) in METHODS, "method")
    uri = jget(req, "uri", str)
    url = jget(req, "url", str)
    need(url.startswith(("https://", "http://")) and url.endswith(uri), "url/uri")
    jget(req, "headers.host", str)
    jget(req, "headers.user-agent", str)
    jget(req, "querystring", dict)
    jget(req, "size", int)
    st = jget(o, "response.status", int)
    jget(o, "response.size", int)
    for k in ("kong", "proxy", "request"):
        jget(o, "latencies." + k, int)
    need(o.get("source") in ("upstream", "kong"), "source")
    auth = o.get("request", {}).get("headers", {}).get("authorization")
    need(auth in (None, "REDACTED"), "authorization must be REDACTED")
    tok = None
    if "authenticated_entity" in o:
        tok = jget(o, "authenticated_entity.id", str)
        need(UUID.match(tok), "credential id")
        jget(o, "consumer.username", str)
    return (t, check_ip(jget(o, "client_ip", str)), req["method"], req_path(uri), st, tok,
            jget(req, "id", str))


def parse_aws(line):
    need(line.startswith('{ "requestId":"'), "console JSON preset layout")
    o = json.loads(line)
    for k in ("requestId", "ip", "caller", "user", "requestTime", "httpMethod", "resourcePath",
              "status", "protocol", "responseLength", "requestTimeEpoch", "path", "domainName",
              "responseLatency", "integrationLatency", "extendedRequestId", "userAgent",
              "apiKeyId", "principalId"):
        need(isinstance(o.get(k), str), "missing string %s" % k)
    m = re.match(r'^(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})$', o["requestTime"])
    need(m, "requestTime CLF")
    t = int(o["requestTimeEpoch"])
    need(clf_ms(*m.groups()) == t // 1000 * 1000, "requestTime != requestTimeEpoch")
    need(o["httpMethod"] in METHODS, "method")
    need(UUID.match(o["requestId"]), "requestId")
    tok = o["apiKeyId"] if o["apiKeyId"] != "-" else (
        o["principalId"] if o["principalId"] != "-" else None)
    return (t, check_ip(o["ip"]), o["httpMethod"], o["path"], int(o["status"]), tok,
            o["requestId"])


def parse_traefik(line):
    need("&" not in line and "<" not in line and ">" not in line, "Go HTML escaping")
    o = json.loads(line)
    keys = list(o)
    need(keys == sorted(keys), "logrus writes keys sorted")
    t = iso_ms(jget(o, "StartUTC", str))
    need(o["StartUTC"] == o["StartLocal"], "StartLocal (UTC host)")
    for k, typ in (("ClientAddr", str), ("ClientPort", str), ("ClientUsername", str),
                   ("DownstreamContentSize", int), ("Duration", int), ("Overhead", int),
                   ("RequestCount", int), ("RequestHost", str), ("RequestProtocol", str),
                   ("RequestScheme", str), ("RetryAttempts", int), ("level", str),
                   ("msg", str), ("time", str), ("request_User-Agent", str)):
        jget(o, k, typ)
    method = jget(o, "RequestMethod", str)
    need(method in METHODS, "method")
    auth = o.get("request_Authorization")
    tok = jwt_sub(auth[7:]) if auth and auth.startswith("Bearer ") else None
    return (t, check_ip(jget(o, "ClientHost", str)), method,
            req_path(jget(o, "RequestPath", str)), jget(o, "DownstreamStatus", int), tok, None)


def parse_ecs(line):
    o = json.loads(line)
    t = iso_ms(jget(o, "@timestamp", str))
    jget(o, "ecs.version", str)
    need(jget(o, "event.category", list) == ["web"], "event.category")
    jget(o, "event.duration", int)
    method = jget(o, "http.request.method", str)
    need(method in METHODS, "method")
    need(UUID.match(jget(o, "http.request.id", str)), "http.request.id")
    path = jget(o, "url.path", str)
    orig = jget(o, "url.original", str)
    need(orig.split("?", 1)[0] == path, "url.original/path")
    need(jget(o, "url.scheme", str) in ("http", "https"), "url.scheme")
    jget(o, "user_agent.original", str)
    tok = o.get("user", {}).get("name")
    return (t, check_ip(jget(o, "source.ip", str)), method, path,
            jget(o, "http.response.status_code", int), tok, o["http"]["request"]["id"])


PARSERS = {"vigil": parse_vigil, "nginx-combined": parse_nginx,
           "apache-combined": parse_apache, "envoy": parse_envoy, "kong": parse_kong,
           "aws-apigw": parse_aws, "traefik": parse_traefik, "ecs": parse_ecs}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in PARSERS:
        sys.exit("usage: check-format.py FORMAT FILE [LABELS]")
    fmt, path = sys.argv[1], sys.argv[2]
    parse = PARSERS[fmt]
    opener = gzip.open if path.endswith(".gz") else open
    n, last_t, tokens, statuses = 0, None, set(), {}
    with opener(path, "rt", encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, 1):
            need_nl = line.endswith("\n")
            line = line.rstrip("\n")
            try:
                need(need_nl, "line without newline")
                rec = parse(line)
                need(100 <= rec[4] <= 599, "status")
                if last_t is not None:
                    need(rec[0] >= last_t - 1000, "time goes back more than 1 s")
                last_t = rec[0] if last_t is None else max(last_t, rec[0])
            except (Bad, ValueError, KeyError) as e:
                print("check-format: %s:%d: %s: %s" % (path, n, e, line[:300]))
                sys.exit(1)
            if rec[5]:
                tokens.add(rec[5])
            statuses[rec[4] // 100] = statuses.get(rec[4] // 100, 0) + 1
    need_labels = 0
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            for i, line in enumerate(f, 1):
                lab = json.loads(line)
                for k in ("id", "kind", "benign", "start", "end", "entity", "note"):
                    if k not in lab:
                        sys.exit("check-format: %s:%d: label without %s" % (sys.argv[3], i, k))
                if lab["start"] > lab["end"]:
                    sys.exit("check-format: %s:%d: start after end" % (sys.argv[3], i))
                ent = lab["entity"]
                if ent["type"] == "token" and fmt != "envoy" and ent["token"] not in tokens:
                    sys.exit("check-format: %s:%d: labelled token never seen in the log"
                             % (sys.argv[3], i))
                need_labels += 1
    print("check-format: %s %s: %d lines ok, %d token identities, status classes %s, %d labels"
          % (fmt, path, n, len(tokens), dict(sorted(statuses.items())), need_labels))


if __name__ == "__main__":
    main()
