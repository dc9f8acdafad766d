/* redis-test-util.h — a real redis-server for unit tests: started on a free loopback port
 * with its data in a temporary directory (append-only, so a restart keeps it), stopped
 * and removed after each test. A test without redis-server installed is skipped.
 *
 *     TestSuite(x, .init = redis_test_init, .fini = redis_test_fini);
 *     Test(x, y) { have_redis(); start_server(NULL); redisContext *c = client(); ... }
 */
#ifndef VG_REDIS_TEST_UTIL_H
#define VG_REDIS_TEST_UTIL_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <glib.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/vg.h"

static char *dir;
static int port;
static GPid server = 0;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static redisContext *client(void)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    cr_assert(c && !c->err);
    return c;
}

/* Whether the server on port answers PING with anything but LOADING (a password-protected
 * one says NOAUTH): a restarted one accepts connections while it loads its append-only
 * file, and answers every command with LOADING until done. */
static bool server_ready(void)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    bool up = c && !c->err;
    if (up) {
        redisReply *r = redisCommand(c, "PING");
        up = r && !(r->type == REDIS_REPLY_ERROR && g_str_has_prefix(r->str, "LOADING"));
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return up;
}

/* Starts redis-server (persisting to dir so that a restart keeps the data), plus extra
 * arguments, and waits until it answers (its data loaded). */
static void start_server(const char *const *extra)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    GPtrArray *argv = g_ptr_array_new();
    const char *base[] = {"redis-server",
                          "--port",
                          p,
                          "--bind",
                          "127.0.0.1",
                          "--save",
                          "",
                          "--dir",
                          dir,
                          "--appendonly",
                          "yes",
                          "--appendfsync",
                          "always",
                          "--loglevel",
                          "warning"};
    for (size_t i = 0; i < VG_ARRAY_LEN(base); i++)
        g_ptr_array_add(argv, (char *)base[i]);
    for (; extra && *extra; extra++)
        g_ptr_array_add(argv, (char *)*extra);
    g_ptr_array_add(argv, NULL);
    GError *err = NULL;
    cr_assert(
        g_spawn_async(NULL, (char **)argv->pdata, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, &server, &err),
        "%s", err ? err->message : "");
    g_ptr_array_free(argv, TRUE);
    for (int i = 0; i < 200; i++) {
        if (server_ready())
            return;
        g_usleep(20000);
    }
    cr_assert_fail("redis-server did not start on port %d", port);
}

static void stop_server(int sig)
{
    if (!server)
        return;
    kill(server, sig);
    waitpid(server, NULL, 0);
    g_spawn_close_pid(server);
    server = 0;
}

static void redis_test_init(void)
{
    dir = g_dir_make_tmp("vg-redis-XXXXXX", NULL);
    port = free_port();
}

static void redis_test_fini(void)
{
    stop_server(SIGKILL);
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
    g_free(dir);
}

static bool have_redis(void)
{
    char *p = g_find_program_in_path("redis-server");
    g_free(p);
    if (!p)
        cr_skip_test("redis-server not installed");
    return p != NULL;
}

#endif
