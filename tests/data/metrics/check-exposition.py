#!/usr/bin/env python3
"""Strict check of the Prometheus text exposition format 0.0.4, for tests.

Reads the exposition on stdin. Fails (exit 1, one line per problem on stderr) on anything a
Prometheus server or promtool would refuse or warn about: malformed lines, bad metric or
label names, bad escapes, values that do not parse, a sample of a family with no TYPE, a
family split into several groups, HELP/TYPE given twice or after samples, duplicate series,
counters not ending in _total, negative counters. With --get NAME{labels} it prints that
sample's value (labels in the order written) instead of "ok".
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
VALUE = re.compile(r"[+-]?(Inf|NaN|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$")


def parse_labels(s, i, errs, ln):
    """Parses {a="x",b="y"} starting at s[i] == '{'. Returns (labels, next index)."""
    labels = []
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            errs.append(f"{ln}: bad label name at column {i + 1}")
            return None, len(s)
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            errs.append(f"{ln}: expected =\" after label {name}")
            return None, len(s)
        i += 2
        val = []
        while True:
            if i >= len(s):
                errs.append(f"{ln}: unterminated label value")
                return None, len(s)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    errs.append(f"{ln}: bad escape \\{nxt} in label value")
                val.append({"n": "\n"}.get(nxt, nxt))
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                errs.append(f"{ln}: raw newline in label value")
                return None, len(s)
            else:
                val.append(c)
                i += 1
        if name in [k for k, _ in labels]:
            errs.append(f"{ln}: label {name} given twice")
        labels.append((name, "".join(val)))
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            errs.append(f"{ln}: expected , or }} after label {name}")
            return None, len(s)


def check(text):
    errs = []
    types, helps, done, series, values = {}, set(), set(), set(), {}
    current = None
    if text and not text.endswith("\n"):
        errs.append("the exposition does not end with a newline")
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    errs.append(f"{ln}: bad metric name {name!r}")
                if name in done or (name != current and name in types):
                    errs.append(f"{ln}: {parts[1]} for {name} after its samples or twice")
                if parts[1] == "HELP":
                    if name in helps:
                        errs.append(f"{ln}: HELP for {name} twice")
                    helps.add(name)
                    h = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]", h.replace("\\\\", "")):
                        errs.append(f"{ln}: bad escape in HELP")
                else:
                    t = parts[3] if len(parts) > 3 else ""
                    if t not in ("counter", "gauge", "histogram", "summary", "untyped"):
                        errs.append(f"{ln}: bad type {t!r}")
                    if name in types:
                        errs.append(f"{ln}: TYPE for {name} twice")
                    types[name] = t
                    if t == "counter" and not name.endswith("_total"):
                        errs.append(f"{ln}: counter {name} does not end in _total")
                if current and current != name:
                    done.add(current)
                current = name
            continue
        m = NAME.match(line)
        if not m:
            errs.append(f"{ln}: bad sample line {line!r}")
            continue
        name = m.group(0)
        i = m.end()
        labels = []
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, errs, ln)
            if labels is None:
                continue
        rest = line[i:]
        if not rest.startswith(" "):
            errs.append(f"{ln}: expected a space before the value")
            continue
        fields = rest.split()
        if len(fields) not in (1, 2) or not VALUE.match(fields[0]):
            errs.append(f"{ln}: bad value {rest.strip()!r}")
            continue
        if name not in types:
            errs.append(f"{ln}: sample of {name} without a TYPE line")
        elif name in done or name != current:
            errs.append(f"{ln}: samples of {name} are not grouped together")
        key = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"
        if key in series:
            errs.append(f"{ln}: duplicate series {key}")
        series.add(key)
        v = float(fields[0].replace("Inf", "inf"))
        if types.get(name) == "counter" and (v < 0 or math.isnan(v)):
            errs.append(f"{ln}: counter {name} is {v}")
        values[key] = fields[0]
        values[name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else "")] = fields[0]
    return errs, values


def main():
    text = sys.stdin.read()
    errs, values = check(text)
    for e in errs:
        print("exposition: " + e, file=sys.stderr)
    if errs:
        sys.exit(1)
    if len(sys.argv) == 3 and sys.argv[1] == "--get":
        if sys.argv[2] not in values:
            print(f"exposition: no sample {sys.argv[2]}", file=sys.stderr)
            sys.exit(1)
        print(values[sys.argv[2]])
    else:
        print("ok")


if __name__ == "__main__":
    main()
