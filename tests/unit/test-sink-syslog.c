/* test-sink-syslog.c — RFC 5424 formatting and escaping (exact bytes), RFC 6587 octet
 * counting, and the transports against in-process loopback receivers: UDP datagrams, TCP
 * framing, a receiver that goes away between batches (noticed, reconnected, tail resent),
 * and the unix datagram socket. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/sinks/delivery.h"
#include "engine/sinks/sinks.h"
#include "engine/sinks/syslog-format.h"

static VgAlertRecord rec(const char *id, const char *rule, VgSeverity sev, const char *json)
{
    return (VgAlertRecord){.json = json,
                           .json_len = strlen(json),
                           .id = id,
                           .rule_id = rule,
                           .rule_name = "Plain HTTP with a credential",
                           .severity = sev,
                           .entity_type = "token",
                           .token_id = "3f2a9c0d11e4b7a8",
                           .client_ip = "198.51.100.7",
                           .score = 61.8,
                           .time_ms = 1772416800123LL}; /* 2026-03-02T02:00:00.123Z */
}

static const VgSyslogFormat fmt = {.facility = 16,
                                   .pen = 32473,
                                   .hostname = "gw1",
                                   .app_name = "vigil",
                                   .procid = "4242",
                                   .msg = VG_SYSLOG_MSG_JSON,
                                   .bom = VG_SYSLOG_BOM_AUTO};

Test(syslog_format, exact_bytes)
{
    VgAlertRecord r = rec("a1b2", "plaintext_http", VG_SEV_HIGH, "{\"k\":1}");
    GString *o = g_string_new(NULL);
    vg_syslog_format(o, &fmt, &r);
    cr_assert_str_eq(o->str, "<131>1 2026-03-02T02:00:00.123Z gw1 vigil 4242 plaintext_http "
                             "[vigil@32473 id=\"a1b2\" rule=\"plaintext_http\" severity=\"high\" "
                             "entity=\"token\" token_id=\"3f2a9c0d11e4b7a8\" "
                             "client_ip=\"198.51.100.7\" score=\"61.8\"] {\"k\":1}");
    g_string_free(o, TRUE);
}

Test(syslog_format, pri_from_facility_and_severity)
{
    int want[] = {6, 5, 4, 3, 2}; /* info, low, medium, high, critical */
    for (int s = 0; s <= 4; s++)
        cr_assert_eq(vg_syslog_severity((VgSeverity)s), want[s]);
    cr_assert_eq(vg_syslog_facility("local0"), 16);
    cr_assert_eq(vg_syslog_facility("daemon"), 3);
    cr_assert_eq(vg_syslog_facility("LOCAL7"), 23);
    cr_assert_eq(vg_syslog_facility("nope"), -1);
    VgSyslogFormat f = fmt;
    f.facility = 3;
    VgAlertRecord r = rec("x", "r", VG_SEV_CRITICAL, "{}");
    GString *o = g_string_new(NULL);
    vg_syslog_format(o, &f, &r);
    cr_assert(g_str_has_prefix(o->str, "<26>1 "), "%s", o->str);
    g_string_free(o, TRUE);
}

Test(syslog_format, sd_escaping)
{
    GString *o = g_string_new(NULL);
    vg_syslog_sd_escape(o, "a\"b\\c]d[e=f");
    cr_assert_str_eq(o->str, "a\\\"b\\\\c\\]d[e=f");
    g_string_truncate(o, 0);
    VgAlertRecord r = rec("id\"]", "rule]\\", VG_SEV_LOW, "{}");
    r.token_id = "";
    r.client_ip = NULL;
    r.score = 0.5;
    vg_syslog_format(o, &fmt, &r);
    cr_assert_str_eq(o->str, "<133>1 2026-03-02T02:00:00.123Z gw1 vigil 4242 rule]\\ "
                             "[vigil@32473 id=\"id\\\"\\]\" rule=\"rule\\]\\\\\" severity=\"low\" "
                             "entity=\"token\" score=\"0.5\"] {}");
    g_string_free(o, TRUE);
}

Test(syslog_format, msgid_is_printable_ascii_max_32)
{
    char out[33];
    cr_assert_str_eq(vg_syslog_header_field("a b\tc\x01"
                                            "d\xc3\xa9"
                                            "e",
                                            out, 32),
                     "abcde");
    cr_assert_str_eq(vg_syslog_header_field("", out, 32), "-");
    cr_assert_str_eq(vg_syslog_header_field(NULL, out, 32), "-");
    cr_assert_str_eq(vg_syslog_header_field("0123456789012345678901234567890123456789", out, 32),
                     "01234567890123456789012345678901");
    VgAlertRecord r = rec("i", "sigma:a very long rule id with spaces in it", VG_SEV_MEDIUM, "{}");
    GString *o = g_string_new(NULL);
    vg_syslog_format(o, &fmt, &r);
    cr_assert(strstr(o->str, " 4242 sigma:averylongruleidwithspacesi [vigil@"), "%s", o->str);
    g_string_free(o, TRUE);
}

Test(syslog_format, bom_rules)
{
    GString *o = g_string_new(NULL);
    VgAlertRecord r = rec("i", "r", VG_SEV_MEDIUM, "{\"p\":\"/caf\xc3\xa9\"}");
    vg_syslog_format(o, &fmt, &r);
    cr_assert(strstr(o->str, "] \xEF\xBB\xBF{\"p\""), "UTF-8 MSG starts with a BOM");
    g_string_truncate(o, 0);
    r = rec("i", "r", VG_SEV_MEDIUM, "{}");
    vg_syslog_format(o, &fmt, &r);
    cr_assert(g_str_has_suffix(o->str, "] {}"), "ASCII MSG: no BOM by default");
    VgSyslogFormat f = fmt;
    f.bom = VG_SYSLOG_BOM_ALWAYS;
    g_string_truncate(o, 0);
    vg_syslog_format(o, &f, &r);
    cr_assert(g_str_has_suffix(o->str, "] \xEF\xBB\xBF{}"));
    g_string_free(o, TRUE);
}

Test(syslog_format, text_message)
{
    VgSyslogFormat f = fmt;
    f.msg = VG_SYSLOG_MSG_TEXT;
    VgAlertRecord r = rec("a1b2", "plaintext_http", VG_SEV_HIGH, "{}");
    GString *o = g_string_new(NULL);
    vg_syslog_format(o, &f, &r);
    cr_assert(g_str_has_suffix(o->str, "] Plain HTTP with a credential (plaintext_http) "
                                       "severity=high entity=token token_id=3f2a9c0d11e4b7a8 "
                                       "client_ip=198.51.100.7 score=61.8 id=a1b2"),
              "%s", o->str);
    g_string_free(o, TRUE);
}

Test(syslog_format, octet_counting)
{
    GString *o = g_string_new(NULL);
    vg_syslog_frame_octets(o, "<13>1 - - - - - - hi", 20);
    vg_syslog_frame_octets(o, "caf\xc3\xa9", 5); /* octets, not characters */
    cr_assert_str_eq(o->str, "20 <13>1 - - - - - - hi5 caf\xc3\xa9");
    g_string_free(o, TRUE);
}

/* ---- transports against loopback receivers ---- */

static int listen_on(int type, int *port)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (*port)
        a.sin_port = htons((uint16_t)*port);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    if (type == SOCK_STREAM)
        listen(fd, 4);
    return fd;
}

/* Reads what is available on fd within ms into out. */
static void read_some(int fd, GString *out, int ms)
{
    char buf[65536];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, ms) > 0) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        g_string_append_len(out, buf, r);
        ms = 50;
    }
}

static VgDelivery *make(const char *opts)
{
    vg_sinks_register();
    char *dir = g_dir_make_tmp("vg-syslog-XXXXXX", NULL);
    char *t = g_strdup_printf("sinks:\n  - type: syslog\n    hostname: h\n%sspool:\n  dir: %s\n"
                              "  retry_min: 1ms\n  retry_max: 5ms\n",
                              opts, dir);
    GError *err = NULL;
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "t.yml", &err);
    VgDelivery *d = vg_delivery_new(vg_conf_get(root, "sinks"), vg_conf_get(root, "spool"), &err);
    cr_assert(d, "%s", err ? err->message : "");
    vg_conf_node_free(root);
    g_free(t);
    g_free(dir); /* left behind in /tmp when a test spools; tiny */
    return d;
}

static void push(VgDelivery *d, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[16];
        snprintf(id, sizeof id, "id-%d", i);
        VgAlertRecord r = rec(id, "plaintext_http", VG_SEV_HIGH, "{}");
        cr_assert_eq(vg_delivery_push(d, &r), VG_OK);
    }
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
}

/* Parses octet-counted frames; returns the ids (the id="…" param) in order. */
static GPtrArray *frames_ids(const GString *s)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    const char *p = s->str, *end = s->str + s->len;
    while (p < end) {
        char *sp;
        unsigned long n = strtoul(p, &sp, 10);
        cr_assert(*sp == ' ' && sp + 1 + n <= end, "bad frame at %td", p - s->str);
        char *msg = g_strndup(sp + 1, n);
        cr_assert(g_str_has_prefix(msg, "<131>1 2026-03-02T02:00:00.123Z h vigil "), "%s", msg);
        char *id = strstr(msg, " id=\"") + 5;
        g_ptr_array_add(ids, g_strndup(id, strcspn(id, "\"")));
        g_free(msg);
        p = sp + 1 + n;
    }
    return ids;
}

Test(syslog_net, tcp_octet_counting)
{
    int port = 0, lfd = listen_on(SOCK_STREAM, &port);
    char *opts = g_strdup_printf("    transport: tcp\n    port: %d\n", port);
    VgDelivery *d = make(opts);
    push(d, 0, 3);
    int c = accept(lfd, NULL, NULL);
    GString *got = g_string_new(NULL);
    read_some(c, got, 1000);
    GPtrArray *ids = frames_ids(got);
    cr_assert_eq(ids->len, 3);
    cr_assert_str_eq(ids->pdata[2], "id-2");
    g_ptr_array_free(ids, TRUE);
    vg_delivery_free(d);
    close(c);
    close(lfd);
    g_string_free(got, TRUE);
    g_free(opts);
}

Test(syslog_net, tcp_receiver_restart_is_noticed_and_tail_resent)
{
    int port = 0, lfd = listen_on(SOCK_STREAM, &port);
    char *opts = g_strdup_printf("    port: %d\n    tcp_resend: 2\n    tcp_settle: 10ms\n", port);
    VgDelivery *d = make(opts);
    push(d, 0, 2);
    push(d, 2, 3); /* the window: the last 2 messages (or the whole last batch) */
    int c = accept(lfd, NULL, NULL);
    GString *got = g_string_new(NULL);
    read_some(c, got, 1000);
    /* the receiver goes away; it may have lost what it had not processed */
    close(c);
    close(lfd);
    g_usleep(20000);
    push(d, 3, 5); /* noticed before sending: reconnect refused, spooled */
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down);
    cr_assert_eq(st.spool_records, 2);
    lfd = listen_on(SOCK_STREAM, &port);
    g_usleep(10000);
    cr_assert_eq(vg_delivery_close(d, 2000, NULL), VG_OK);
    c = accept(lfd, NULL, NULL);
    g_string_truncate(got, 0);
    read_some(c, got, 1000);
    GPtrArray *ids = frames_ids(got);
    /* the last 2 of the broken connection again, then the spool */
    const char *want[] = {"id-1", "id-2", "id-3", "id-4"};
    cr_assert_eq(ids->len, 4, "got %u frames", ids->len);
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(ids->pdata[i], want[i]);
    g_ptr_array_free(ids, TRUE);
    vg_delivery_free(d);
    close(c);
    close(lfd);
    g_string_free(got, TRUE);
    g_free(opts);
}

Test(syslog_net, tcp_newline_framing)
{
    int port = 0, lfd = listen_on(SOCK_STREAM, &port);
    char *opts = g_strdup_printf("    port: %d\n    framing: newline\n    message: text\n", port);
    VgDelivery *d = make(opts);
    push(d, 0, 2);
    int c = accept(lfd, NULL, NULL);
    GString *got = g_string_new(NULL);
    read_some(c, got, 1000);
    char **lines = g_strsplit(got->str, "\n", -1);
    cr_assert_eq(g_strv_length(lines), 3);
    cr_assert(g_str_has_prefix(lines[0], "<131>1 "));
    cr_assert(g_str_has_suffix(lines[1], " id=id-1"), "%s", lines[1]);
    g_strfreev(lines);
    vg_delivery_free(d);
    close(c);
    close(lfd);
    g_string_free(got, TRUE);
    g_free(opts);
}

Test(syslog_net, udp_one_datagram_per_alert_and_big_json_falls_back_to_text)
{
    int port = 0, fd = listen_on(SOCK_DGRAM, &port);
    char *opts = g_strdup_printf("    transport: udp\n    port: %d\n    max_size: 600\n", port);
    VgDelivery *d = make(opts);
    push(d, 0, 2);
    GString *big = g_string_new("{\"pad\":\"");
    for (int i = 0; i < 1000; i++)
        g_string_append_c(big, 'x');
    g_string_append(big, "\"}");
    VgAlertRecord r = rec("id-big", "plaintext_http", VG_SEV_HIGH, big->str);
    vg_delivery_push(d, &r);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    char buf[4096];
    for (int i = 0; i < 3; i++) {
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        cr_assert_gt(n, 0);
        buf[n] = 0;
        cr_assert(g_str_has_prefix(buf, "<131>1 "), "%s", buf);
        if (i < 2)
            cr_assert(g_str_has_suffix(buf, "] {}"), "%s", buf);
        else
            cr_assert(g_str_has_suffix(buf, " id=id-big") && n < 600, "%s", buf);
    }
    vg_delivery_free(d);
    close(fd);
    g_string_free(big, TRUE);
    g_free(opts);
}

Test(syslog_net, unix_datagram_socket)
{
    char *dir = g_dir_make_tmp("vg-log-XXXXXX", NULL);
    char *path = g_build_filename(dir, "log", NULL);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    char *opts = g_strdup_printf("    transport: unix\n    path: %s\n", path);
    VgDelivery *d = make(opts);
    push(d, 0, 1);
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    cr_assert_gt(n, 0);
    buf[n] = 0;
    cr_assert(g_str_has_prefix(buf, "<131>1 2026-03-02T02:00:00.123Z h vigil "), "%s", buf);
    vg_delivery_free(d);
    close(fd);
    unlink(path);
    rmdir(dir);
    g_free(path);
    g_free(dir);
    g_free(opts);
}

Test(syslog_net, config_errors)
{
    vg_sinks_register();
    const char *t = "sinks:\n  - type: syslog\n    facility: local9\n";
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "t.yml", NULL);
    GError *err = NULL;
    cr_assert_null(vg_delivery_new(vg_conf_get(root, "sinks"), NULL, &err));
    cr_assert(strstr(err->message, "t.yml:3:15: facility must be one of"), "%s", err->message);
    g_error_free(err);
    vg_conf_node_free(root);
}
