/* The "raw libcurl in C" column of `make bench` (not a test), and the
 * start-up timer for every column.
 *
 *   rawcurl get URL TOKEN N       N sequential GETs on one reused easy handle
 *                                 (keep-alive, body appended to a reused
 *                                 buffer, no decode); prints "<calls/s> <bytes>"
 *   rawcurl spawn N PROG ARGS...  runs PROG N times (fork + execvp + wait, no
 *                                 shell); prints the median ms of one run
 *
 * Built by bench/run with: cc -O2 -Wall -Wextra -Werror bench/rawcurl.c -lcurl
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sink { char *data; size_t len, cap; };

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;
    if (s->len + add > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + add) cap *= 2;
        char *d = realloc(s->data, cap);
        if (!d) return 0; /* libcurl reports CURLE_WRITE_ERROR */
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    return add;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int get(const char *url, const char *token, long n)
{
    struct sink s = { NULL, 0, 0 };
    char auth[4096];
    int rc = 1;
    if (snprintf(auth, sizeof auth, "Authorization: Bearer %s", token) >= (int)sizeof auth) {
        fprintf(stderr, "rawcurl: token too long\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    struct curl_slist *h2 = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    if (!e || !h2) { fprintf(stderr, "rawcurl: out of memory\n"); goto done; }
    h = h2;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    double t0 = 0;
    for (long i = -n / 10 - 1; i < n; i++) { /* the first tenth warms up, untimed */
        if (i == 0) t0 = now();
        s.len = 0;
        CURLcode c = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (c != CURLE_OK || status != 200) {
            fprintf(stderr, "rawcurl: GET %s: %s, status %ld\n", url, curl_easy_strerror(c), status);
            goto done;
        }
    }
    printf("%.3f %zu\n", (double)n / (now() - t0), s.len);
    rc = 0;
done:
    curl_slist_free_all(h);
    if (e) curl_easy_cleanup(e);
    free(s.data);
    curl_global_cleanup();
    return rc;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int spawn(long n, char **argv)
{
    double *ms = calloc((size_t)n, sizeof *ms);
    if (!ms) return 1;
    for (long i = 0; i < n; i++) {
        double t0 = now();
        pid_t pid = fork();
        if (pid < 0) { perror("rawcurl: fork"); free(ms); return 1; }
        if (pid == 0) {
            execvp(argv[0], argv);
            perror("rawcurl: exec");
            _exit(127);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "rawcurl: %s failed\n", argv[0]);
            free(ms);
            return 1;
        }
        ms[i] = (now() - t0) * 1000;
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("%.3f\n", n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2);
    free(ms);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "get") == 0 && atol(argv[4]) > 0)
        return get(argv[2], argv[3], atol(argv[4]));
    if (argc >= 4 && strcmp(argv[1], "spawn") == 0 && atol(argv[2]) > 0)
        return spawn(atol(argv[2]), argv + 3);
    fprintf(stderr, "usage: rawcurl get URL TOKEN N | rawcurl spawn N PROG ARGS...\n");
    return 2;
}
