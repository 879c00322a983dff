/* The default transport: libcurl, its own Lua module (purecloud.transport.curl,
 * build/<lua>/purecloud/transport/curl.so) so that `require "purecloud"` and
 * creating a client never load libcurl and its ~30 libraries (~12 ms of
 * dynamic loading): the client requires this module at its first request.
 *
 *   curl.new(opts) -> handle
 *   handle:perform(req) -> res | nil, err        blocking, one reused easy handle
 *   handle:submit(req)  -> id                     libcurl multi, for concurrency
 *   handle:poll(timeout) -> { {id=, res=} | {id=, err=}, ... }
 *   handle:pending() -> n ; handle:close()
 *
 * A handle owns one easy handle (keep-alive across perform calls), one multi
 * handle with a pool of easy handles, and a share handle for DNS and TLS
 * sessions between them. A handle belongs to one Lua state and one thread.
 *
 * No Lua API call ever runs inside a libcurl callback: the write and header
 * callbacks only append to C buffers, so nothing can longjmp through libcurl.
 * Every C allocation hangs off the handle (or a transfer in it) before any
 * call that might raise, so close/__gc frees it on every path. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "pc.h"
#include "text.h"
#include "json/json.h"
#include "protocol/protocol.h"

#define CURL_MT "purecloud.curl"
#define DEFAULT_MAX_BODY (64u * 1024u * 1024u)
#define PC_CURL_MAX_CONNECTIONS 64L

/* The one process-wide mutable step, done once: curl_global_init is only
 * thread-safe from 7.84 when built with CURL_VERSION_THREADSAFE, so a
 * pthread_once makes it safe whatever libcurl we run against. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;
static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }


typedef struct xfer {
    CURL *easy;
    struct curl_slist *hdrs;  /* kept between requests while the header lines do not change */
    pc_buf hsig, hnew;         /* the lines of hdrs, and this request's ("Name: value\0" each) */
    char *body;
    pc_buf resp, head;
    char errbuf[CURL_ERROR_SIZE];
    size_t blen, sent_pos; /* request body length; bytes handed to libcurl so far */
    size_t max_body;       /* this request's response cap */
    int unsafe;            /* req.safe == false: never re-sent, libcurl may not rewind a body it has sent */
    int decode;            /* req.decode: a 2xx JSON body comes back decoded (res.value) */
    int used;              /* the easy handle has carried a transfer: replaced before the next */
    int rewind_refused;
    int refused_stream;    /* libcurl said the server refused this HTTP/2 stream (unprocessed) */
    lua_Integer id;
    int busy;
} xfer;

typedef struct {
    CURLSH *share;
    CURLM *multi;
    CURLM *pmulti;         /* perform's: its connection cache outlives each transfer's easy handle */
    xfer *easy;            /* for perform */
    xfer **pool;           /* for submit/poll */
    int npool, capool;
    int pending;
    lua_Integer next_id;
    int verify;
    char *ca_file, *ca_path, *proxy, *user_agent;
    char *proxy_pw[2];     /* the proxy's password as written and percent-decoded: secrets (protocol.h) */
    char *client_cert, *client_key; /* mutual TLS: PEM files (CURLOPT_SSLCERT, CURLOPT_SSLKEY) */
    char *key_password;    /* the client key's pass phrase (CURLOPT_KEYPASSWD): a secret, wiped on close */
    size_t max_body;
    long max_connections;
    long http_version;     /* CURL_HTTP_VERSION_2TLS; "1.1" (bench/http2.lua's comparison) forces HTTP/1.1 */
    int closed;
} handle;

/* ---- buffers ---------------------------------------------------------- */

static size_t on_write(char *p, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    return pc_buf_add(&x->resp, p, size * n) ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    /* A new status line starts a new response (100-continue, proxy CONNECT,
     * redirects are off): keep only the final response's headers. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) x->head.len = 0;
    return pc_buf_add(&x->head, p, len) ? len : 0;
}

/* A request that must reach the server at most once (POST, PATCH) hands its
 * body to libcurl through these two callbacks instead of CURLOPT_POSTFIELDS.
 * libcurl re-sends a request by itself when a reused keep-alive connection
 * turns out dead before any response byte ("Connection died, retrying a fresh
 * connect"); when body bytes were already written it first rewinds the body,
 * and on_seek refuses that, so the transfer fails with
 * CURLE_SEND_FAIL_REWIND instead of applying the write twice. When no body
 * byte left, the server cannot have acted and the re-send is allowed. */
static size_t on_read(char *dst, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t room = size * n, left = x->blen - x->sent_pos;
    if (room > left) room = left;
    if (room) memcpy(dst, x->body + x->sent_pos, room);
    x->sent_pos += room;
    return room;
}

static int on_seek(void *ud, curl_off_t offset, int origin) {
    xfer *x = ud;
    if (origin == SEEK_SET && offset == 0 && x->sent_pos == 0) return CURL_SEEKFUNC_OK;
    /* An HTTP/2 stream the server refused (RST_STREAM REFUSED_STREAM, or a
     * stream above a GOAWAY's last stream id, which nghttp2 closes as
     * refused) was not processed (RFC 9113, 8.7: it can be retried safely,
     * whatever the method): libcurl re-sends it on a new connection, and the
     * body is rewound for that, once per refusal. */
    if (origin == SEEK_SET && offset == 0 && x->refused_stream) {
        x->refused_stream = 0;
        x->sent_pos = 0;
        return CURL_SEEKFUNC_OK;
    }
    x->rewind_refused = 1;
    return CURL_SEEKFUNC_FAIL;
}

/* How a write learns that its stream was refused: libcurl has no
 * CURLINFO for it, only its info line ("REFUSED_STREAM, try again on a new
 * connection", lib/http2.c; 8.x adds the stream id), written just before
 * it decides to retry. Verbose output is on only for writes that have this
 * callback (it only looks at text, nothing is printed), so other requests
 * pay nothing. */
static int on_debug(CURL *e, curl_infotype type, char *text, size_t n, void *ud) {
    (void)e;
    xfer *x = ud;
    static const char tag[] = "REFUSED_STREAM";
    if (type == CURLINFO_TEXT && n >= sizeof tag - 1 && memcmp(text, tag, sizeof tag - 1) == 0) x->refused_stream = 1;
    return 0;
}

/* ---- transfers -------------------------------------------------------- */

static xfer *xfer_new(handle *h) {
    xfer *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return NULL;
    }
    x->resp.max = h->max_body;
    x->head.max = 1024 * 1024;
    return x;
}

/* Header lines and bodies can hold credentials (Authorization, the token
 * form, a token response): they are overwritten (pc_wipe, csrc/text.h)
 * before the memory is given back or reused. */

/* Empty a buffer for reuse, wiped (pc_buf_clear then has nothing left to
 * wipe; it still releases a buffer above `keep`). */
static void buf_reset(pc_buf *b, size_t keep) {
    pc_wipe(b->p, b->len);
    b->len = 0;
    pc_buf_clear(b, keep);
}

static void free_headers(struct curl_slist *l) {
    for (struct curl_slist *i = l; i; i = i->next)
        if (i->data) pc_wipe(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

/* A connection's buffers keep their size for the next response, but never
 * that of one exceptional page: above this they are released after use. */
#define KEEP_BUFFER (4u * 1024u * 1024u)

/* The header list stays for the next request (freed by xfer_free or when the
 * lines change): rebuilding it per call was a malloc and a free per line. */
static void xfer_clear(xfer *x) {
    buf_reset(&x->hnew, 64 * 1024);
    if (x->body) pc_wipe(x->body, x->blen);
    free(x->body);
    x->body = NULL;
    x->blen = x->sent_pos = 0;
    x->unsafe = x->rewind_refused = x->refused_stream = x->decode = 0;
    buf_reset(&x->resp, KEEP_BUFFER);
    buf_reset(&x->head, KEEP_BUFFER);
    x->errbuf[0] = '\0';
    x->busy = 0;
}

static void xfer_free(xfer *x) {
    if (!x) return;
    xfer_clear(x);
    if (x->easy) curl_easy_cleanup(x->easy);
    free_headers(x->hdrs);
    x->hdrs = NULL;
    pc_buf_release(&x->resp);
    pc_buf_release(&x->head);
    pc_buf_release(&x->hsig);
    pc_buf_release(&x->hnew);
    free(x);
}

/* A transport failure as an error object (the one constructor, errors.c). */
static void push_error(lua_State *L, const char *kind, const char *message, int code, int sent) {
    pc_push_error(L, kind, 0);
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    if (code >= 0) {
        lua_pushinteger(L, code);
        lua_setfield(L, -2, "curl_code");
    }
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
    /* Whether the server may have acted: "unknown" once a byte has left. */
    lua_pushstring(L, sent ? "unknown" : "not_sent");
    lua_setfield(L, -2, "outcome");
}

static double opt_seconds(lua_State *L, int t, const char *k, double dflt) {
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? (double)lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    if (!(v > 0)) v = dflt;
    return v;
}

/* Make x->hdrs the list of the lines in x->hnew: the list of the previous
 * request when the lines are the same (the usual case: the same headers and
 * token), else a new one. Returns 0 when out of memory (x stays consistent). */
static int use_lines(xfer *x) {
    if (x->hdrs && x->hnew.len == x->hsig.len && memcmp(x->hnew.p, x->hsig.p, x->hnew.len) == 0) {
        buf_reset(&x->hnew, 64 * 1024);
        return 1;
    }
    struct curl_slist *list = NULL;
    for (size_t at = 0; at < x->hnew.len;) {
        const char *line = x->hnew.p + at;
        struct curl_slist *n = curl_slist_append(list, line);
        if (!n) {
            free_headers(list);
            return 0;
        }
        list = n;
        at += strlen(line) + 1;
    }
    free_headers(x->hdrs);
    x->hdrs = list;
    pc_buf t = x->hsig;
    x->hsig = x->hnew;
    x->hnew = t;
    buf_reset(&x->hnew, 64 * 1024);
    return 1;
}

/* Configure x for the request table at index r. Returns 1, or 0 after pushing
 * a validation error (nothing is sent then). Raises only for argument
 * mistakes, with every allocation already owned by x. */
static int xfer_setup(lua_State *L, handle *h, xfer *x, int r, int for_multi) {
    luaL_checktype(L, r, LUA_TTABLE);
    xfer_clear(x);
    /* Every transfer gets an easy handle with no history. libcurl before
     * 8.1.0 (Debian 12 has 7.88.1) keeps a pointer to the previous
     * response's last header in a reused easy handle after freeing it
     * (curl#11101, fixed by curl 567b8ce); a response whose first field line
     * starts with a space and holds a colon then makes it "unfold" into freed
     * memory: a heap corruption any server can cause
     * (spec/hostile/framing_spec.lua, fold_first). The connections live in
     * the multi handles, not in the easy handle, so nothing is lost; a new
     * easy handle costs what reusing one did (docs/PERFORMANCE.md). */
    if (x->used) {
        CURL *fresh = curl_easy_init();
        if (!fresh) return luaL_error(L, "purecloud: cannot create a libcurl handle");
        curl_easy_cleanup(x->easy);
        x->easy = fresh;
    }
    x->used = 1;
    x->busy = 1;
    CURL *e = x->easy;

    lua_getfield(L, r, "method");
    const char *method = lua_tostring(L, -1);
    lua_getfield(L, r, "url");
    const char *url = lua_tostring(L, -1);
    if (!method) return luaL_argerror(L, r, "req.method must be a string");
    if (!url) return luaL_argerror(L, r, "req.url must be a string");
    int is_get = !strcmp(method, "GET"), is_head = !strcmp(method, "HEAD"), is_post = !strcmp(method, "POST");
    if (!is_get && !is_head && !is_post && strcmp(method, "PUT") && strcmp(method, "PATCH") &&
        strcmp(method, "DELETE") && strcmp(method, "OPTIONS"))
        return luaL_argerror(L, r, "req.method is not a supported HTTP method");

    /* Headers: each one checked by the one header rule (csrc/text.h) before
     * the list is built. The request layer (request.lua) already refused
     * what a caller may not send; this asserts it for a handle called
     * directly, with the same reason the cosocket transport gives. */
    int has_ctype = 0, has_aenc = 0;
    lua_getfield(L, r, "headers");
    int hidx = lua_gettop(L);
    if (!lua_isnil(L, hidx)) {
        if (!lua_istable(L, hidx)) return luaL_argerror(L, r, "req.headers must be a table");
        lua_pushnil(L);
        while (lua_next(L, hidx)) {
            size_t kn, vn;
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 2);
                return luaL_argerror(L, r, "req.headers must map strings to strings");
            }
            const char *k = lua_tolstring(L, -2, &kn);
            const char *v = lua_tolstring(L, -1, &vn);
            char why[PC_HEADER_NAME_MAX + 160], msg[sizeof why + 32];
            if (pc_header_check(k, kn, v, vn, PC_HEADER_WIRE, why, sizeof why)) {
                lua_pop(L, 2);
                xfer_clear(x);
                snprintf(msg, sizeof msg, "request refused: %s", why);
                push_error(L, "validation", msg, -1, 0);
                return 0;
            }
            if (kn == 12 && !strncasecmp(k, "content-type", 12)) has_ctype = 1;
            if (kn == 15 && !strncasecmp(k, "accept-encoding", 15)) has_aenc = 1;
            /* "Name;" sends an empty header ("Name:" would remove it). */
            if (!pc_buf_add(&x->hnew, k, kn) || !pc_buf_add(&x->hnew, vn ? ": " : ";", vn ? 2 : 1) ||
                !pc_buf_add(&x->hnew, v, vn) || !pc_buf_add(&x->hnew, "", 1)) {
                lua_pop(L, 2);
                return luaL_error(L, "purecloud: out of memory");
            }
            lua_pop(L, 1);
        }
    }
    /* No "Expect: 100-continue" round trip for larger bodies. */
    if (!pc_buf_add(&x->hnew, "Expect:", 8)) return luaL_error(L, "purecloud: out of memory");
    /* Accept-Encoding as a line of the kept list: libcurl then leaves out
     * the one it would format from CURLOPT_ACCEPT_ENCODING on every request
     * (an aprintf: a kept line costs it ~1.4 k instructions less), and still
     * decodes gzip, which that option alone turns on. A caller's own
     * Accept-Encoding (e.g. identity) replaces it. */
    if (!has_aenc && !pc_buf_add(&x->hnew, "Accept-Encoding: gzip", 22))
        return luaL_error(L, "purecloud: out of memory");

    lua_getfield(L, r, "body");
    size_t blen = 0;
    const char *body = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, r, "req.body must be a string");
        body = lua_tolstring(L, -1, &blen);
    }
    if (body || is_post || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
        x->body = malloc(blen + 1);
        if (!x->body) return luaL_error(L, "purecloud: out of memory");
        if (blen) memcpy(x->body, body, blen);
        x->body[blen] = '\0';
        x->blen = blen;
        if (!has_ctype && blen == 0) {
            /* An empty body is sent with Content-Length: 0 and no form type. */
            if (!pc_buf_add(&x->hnew, "Content-Type:", 14)) return luaL_error(L, "purecloud: out of memory");
        }
    }
    if (!use_lines(x)) return luaL_error(L, "purecloud: out of memory");

    lua_getfield(L, r, "safe"); /* the operation's `safe`, the one name from the contract to the wire */
    x->unsafe = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_getfield(L, r, "decode");
    x->decode = lua_toboolean(L, -1);
    lua_getfield(L, r, "max_body");
    x->resp.max = lua_isnumber(L, -1) && lua_tonumber(L, -1) >= 0 && lua_tonumber(L, -1) < (lua_Number)h->max_body
                      ? (size_t)lua_tonumber(L, -1) : h->max_body;
    lua_pop(L, 3);

    double timeout = opt_seconds(L, r, "timeout", 30);
    double connect_timeout = opt_seconds(L, r, "connect_timeout", 10);

    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    /* gzip only, as Go's net/http asks: what the service compresses with
     * (libcurl's full list, deflate, gzip, br, zstd, offers encodings the
     * service does not use). This option turns decoding on; the header
     * itself is a line of the list (above). */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, h->http_version);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout * 1000));
#if LIBCURL_VERSION_NUM >= 0x075000
    curl_easy_setopt(e, CURLOPT_MAXLIFETIME_CONN, 300L);
#endif
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->verify ? 2L : 0L);
    if (h->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
    if (h->ca_path) curl_easy_setopt(e, CURLOPT_CAPATH, h->ca_path);
    if (h->proxy) curl_easy_setopt(e, CURLOPT_PROXY, h->proxy);
    if (h->user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
    /* Mutual TLS: the client certificate and key, PEM files; libcurl reads
     * them at each new connection (a TLS session resumed from the share
     * keeps the identity it was made with: one handle, one identity). */
    if (h->client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, h->client_cert);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (h->client_key) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, h->client_key);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (h->key_password) curl_easy_setopt(e, CURLOPT_KEYPASSWD, h->key_password);
    curl_easy_setopt(e, CURLOPT_SHARE, h->share);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    if (for_multi) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (is_head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (is_get) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (!is_post) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (x->body && x->unsafe) {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
            curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(e, CURLOPT_READDATA, x);
            curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
            curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
            curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
            curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
            /* An empty body has no byte whose rewind could be refused: send it
             * on a connection libcurl has not reused, so it is never re-sent. */
            if (blen == 0) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        } else if (x->body) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        } else if (x->unsafe) {
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        }
    }
    lua_settop(L, r);
    return 1;
}

/* Set res.body, or with req.decode a 2xx body's decoded value as res.value:
 * decoded straight from the transfer's buffer, so a 1 MB page is never
 * copied into a Lua string first. An empty or blank body, and one that is not
 * valid JSON, stay res.body (core.interpret then answers true, or the decode
 * error with the body). */
/* The core's decoder (json.h, PC_JSON_API): set when this module opens,
 * after it required purecloud.core; the same table for every Lua state of
 * the process (core.so is mapped once), never written again. */
static const pc_json_api *json;

static void push_body(lua_State *L, xfer *x, long status) {
    const char *p = x->resp.p ? x->resp.p : "";
    size_t n = x->resp.len;
    if (x->decode && status >= 200 && status < 300) {
        char msg[160]; /* a refusal (blank or invalid text) leaves the stack as it was */
        if (json->decode(L, p, n, msg, sizeof msg)) {
            lua_setfield(L, -2, "value");
            return;
        }
    }
    lua_pushlstring(L, p, n);
    lua_setfield(L, -2, "body");
}

/* Push the outcome of a finished transfer: a response table, or nil + error. */
static int push_outcome(lua_State *L, xfer *x, CURLcode rc) {
    CURL *e = x->easy;
    if (rc != CURLE_OK) {
        /* `sent` is false only when the server cannot have seen the request:
         * no connection, or not one byte of the request written. A reused
         * connection has no connect time, so that is not evidence. */
        int sent = 1;
        long req_size = 0;
        curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
        if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
            rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT || req_size == 0)
            sent = 0;
        /* A response libcurl could not frame is "protocol", as the cosocket
         * transport says (lua/purecloud/http1.lua): never retried. */
        const char *kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : rc == CURLE_WEIRD_SERVER_REPLY ? "protocol"
                                                                                                       : "transport";
        char msg[CURL_ERROR_SIZE + 200];
        if (x->resp.overflow)
            snprintf(msg, sizeof msg, "response body larger than the %zu-byte limit (max_body); not retried",
                     x->resp.max);
        else if (x->rewind_refused)
            snprintf(msg, sizeof msg, "the connection closed after the request was sent, before any response");
        else
            snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(rc), x->errbuf[0] ? ": " : "", x->errbuf);
        lua_pushnil(L);
        push_error(L, kind, msg, (int)rc, sent);
        if (x->resp.overflow || rc == CURLE_WEIRD_SERVER_REPLY) {
            lua_pushstring(L, x->resp.overflow ? "too_large" : "framing");
            lua_setfield(L, -2, "reason");
        }
        return 2;
    }
    long status = 0;
    double total = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &total);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    lua_pushnumber(L, total);
    lua_setfield(L, -2, "elapsed");
    push_body(L, x, status);
    /* The final response's header block as is: res.headers is built from it
     * at its first use (PC_RESPONSE_MT), and core.header reads single
     * headers from it, so a call whose headers nobody asks for pays one
     * string instead of a table of them. */
    lua_pushlstring(L, x->head.p ? x->head.p : "", x->head.len);
    lua_setfield(L, -2, "head");
    luaL_getmetatable(L, PC_RESPONSE_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* ---- the handle ------------------------------------------------------- */

static handle *check_open(lua_State *L) {
    handle *h = luaL_checkudata(L, 1, CURL_MT);
    if (h->closed) luaL_error(L, "purecloud: transport is closed");
    return h;
}

static int opt_string(lua_State *L, int t, const char *k, char **dst) {
    lua_getfield(L, t, k);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "purecloud: curl option '%s' must be a string", k);
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        *dst = malloc(n + 1);
        if (!*dst) return luaL_error(L, "purecloud: out of memory");
        memcpy(*dst, s, n + 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int l_close(lua_State *L) {
    handle *h = luaL_checkudata(L, 1, CURL_MT);
    if (h->closed) return 0;
    h->closed = 1;
    for (int i = 0; i < h->npool; i++) {
        if (h->pool[i]->busy && h->multi) curl_multi_remove_handle(h->multi, h->pool[i]->easy);
        xfer_free(h->pool[i]);
    }
    free(h->pool);
    h->pool = NULL;
    h->npool = h->capool = h->pending = 0;
    if (h->easy && h->easy->busy && h->pmulti) curl_multi_remove_handle(h->pmulti, h->easy->easy);
    xfer_free(h->easy);
    h->easy = NULL;
    if (h->multi) curl_multi_cleanup(h->multi);
    if (h->pmulti) curl_multi_cleanup(h->pmulti);
    h->multi = h->pmulti = NULL;
    if (h->share) curl_share_cleanup(h->share);
    h->share = NULL;
    free(h->ca_file);
    free(h->ca_path);
    if (h->proxy) pc_wipe(h->proxy, strlen(h->proxy));
    free(h->proxy);
    free(h->user_agent);
    free(h->client_cert);
    free(h->client_key);
    if (h->key_password) pc_wipe(h->key_password, strlen(h->key_password));
    free(h->key_password);
    h->ca_file = h->ca_path = h->proxy = h->user_agent = h->client_cert = h->client_key = h->key_password = NULL;
    for (int i = 0; i < 2; i++) {
        if (h->proxy_pw[i]) pc_wipe(h->proxy_pw[i], strlen(h->proxy_pw[i]));
        free(h->proxy_pw[i]);
        h->proxy_pw[i] = NULL;
    }
    return 0;
}

/* The handle's list function (protocol.h): its proxy password and its client
 * key's pass phrase, so the one scrub removes them from every error text —
 * libcurl's error buffer quotes the proxy string it was given. */
static int l_secrets(lua_State *L) {
    const handle *h = lua_touserdata(L, 1);
    pc_secrets *c = lua_touserdata(L, 2);
    if (!h || !c) return 0;
    for (int i = 0; i < 2; i++)
        if (h->proxy_pw[i]) pc_secret(c, h->proxy_pw[i], strlen(h->proxy_pw[i]));
    if (h->key_password) pc_secret(c, h->key_password, strlen(h->key_password));
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The password of proxy URL's userinfo (scheme://user:password@host…),
 * as written and percent-decoded; 0 when out of memory. */
static int proxy_password(handle *h) {
    const char *p = h->proxy, *start = strstr(p, "://");
    start = start ? start + 3 : p;
    size_t auth = strcspn(start, "/?#");
    const char *at = NULL;
    for (const char *q = start; q < start + auth; q++)
        if (*q == '@') at = q;
    if (!at) return 1;
    const char *colon = memchr(start, ':', (size_t)(at - start));
    if (!colon || colon + 1 == at) return 1;
    size_t n = (size_t)(at - colon - 1);
    char *raw = malloc(n + 1), *dec = malloc(n + 1);
    if (!raw || !dec) {
        free(raw);
        free(dec);
        return 0;
    }
    memcpy(raw, colon + 1, n);
    raw[n] = '\0';
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (raw[i] == '%' && i + 2 < n && (hi = hexval(raw[i + 1])) >= 0 && (lo = hexval(raw[i + 2])) >= 0) {
            dec[m++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dec[m++] = raw[i];
        }
    }
    dec[m] = '\0';
    h->proxy_pw[0] = raw;
    if (m != n) h->proxy_pw[1] = dec;
    else free(dec);
    return 1;
}

/* curl.new{ verify, ca_file, ca_path, proxy, user_agent, max_body, max_connections,
 *           client_cert, client_key, client_key_password } */
static int l_new(lua_State *L) {
    if (lua_isnoneornil(L, 1)) lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) return luaL_error(L, "purecloud: curl_global_init failed");
    handle *h = lua_newuserdata(L, sizeof *h);
    memset(h, 0, sizeof *h);
    /* Zeroed and open: if anything below raises, __gc (close) frees what was acquired. */
    luaL_getmetatable(L, CURL_MT);
    lua_setmetatable(L, -2);
    lua_getfield(L, 1, "verify");
    h->verify = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "max_body");
    h->max_body = lua_isnumber(L, -1) ? (size_t)lua_tointeger(L, -1) : DEFAULT_MAX_BODY;
    lua_pop(L, 1);
    lua_getfield(L, 1, "max_connections");
    /* 64: the largest concurrency a pager or the CLI runs (purecloud.pager,
     * bin/purecloud), so over HTTP/1.1 a batch's calls never queue behind
     * too few connections (README "Measured": 200 GETs at concurrency 32);
     * over HTTP/2 they share one connection (PIPEWAIT) whatever this is. */
    h->max_connections = lua_isnumber(L, -1) ? (long)lua_tointeger(L, -1) : PC_CURL_MAX_CONNECTIONS;
    lua_pop(L, 1);
    lua_getfield(L, 1, "http_version");
    h->http_version = (long)CURL_HTTP_VERSION_2TLS;
    if (lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "1.1")) h->http_version = (long)CURL_HTTP_VERSION_1_1;
    lua_pop(L, 1);
    opt_string(L, 1, "ca_file", &h->ca_file);
    opt_string(L, 1, "ca_path", &h->ca_path);
    opt_string(L, 1, "proxy", &h->proxy);
    if (h->proxy && !proxy_password(h)) return luaL_error(L, "purecloud: out of memory");
    opt_string(L, 1, "user_agent", &h->user_agent);
    opt_string(L, 1, "client_cert", &h->client_cert);
    opt_string(L, 1, "client_key", &h->client_key);
    opt_string(L, 1, "client_key_password", &h->key_password);
    if (h->proxy_pw[0] || h->key_password) pc_secret_owner(L, -1, l_secrets);
    h->share = curl_share_init();
    h->multi = curl_multi_init();
    h->pmulti = curl_multi_init();
    h->easy = xfer_new(h);
    if (!h->share || !h->multi || !h->pmulti || !h->easy) return luaL_error(L, "purecloud: cannot create libcurl handles");
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->max_connections);
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return 1;
}

static int l_perform(lua_State *L) {
    handle *h = check_open(L);
    if (!xfer_setup(L, h, h->easy, 2, 0)) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    /* Blocking, as curl_easy_perform is, on perform's own multi handle (see
     * xfer_setup: the easy handle is new each time, the connections stay). */
    CURL *e = h->easy->easy;
    CURLcode rc = CURLE_OK;
    CURLMcode mc = curl_multi_add_handle(h->pmulti, e);
    if (mc != CURLM_OK) {
        xfer_clear(h->easy);
        return luaL_error(L, "purecloud: curl_multi_add_handle: %s", curl_multi_strerror(mc));
    }
    for (int running = 1; running && mc == CURLM_OK;) {
        mc = curl_multi_perform(h->pmulti, &running);
        if (running && mc == CURLM_OK) mc = curl_multi_poll(h->pmulti, NULL, 0, 1000, NULL);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->pmulti, &left)))
        if (m->msg == CURLMSG_DONE && m->easy_handle == e) rc = m->data.result;
    if (mc != CURLM_OK) rc = CURLE_RECV_ERROR;
    curl_multi_remove_handle(h->pmulti, e);
    int n = push_outcome(L, h->easy, rc);
    h->easy->busy = 0;
    return n;
}

static int l_submit(lua_State *L) {
    handle *h = check_open(L);
    xfer *x = NULL;
    for (int i = 0; i < h->npool; i++)
        if (!h->pool[i]->busy) {
            x = h->pool[i];
            break;
        }
    if (!x) {
        if (h->npool == h->capool) {
            int cap = h->capool ? h->capool * 2 : 8;
            xfer **p = realloc(h->pool, (size_t)cap * sizeof *p);
            if (!p) return luaL_error(L, "purecloud: out of memory");
            h->pool = p;
            h->capool = cap;
        }
        x = xfer_new(h);
        if (!x) return luaL_error(L, "purecloud: cannot create a libcurl handle");
        h->pool[h->npool++] = x;
    }
    if (!xfer_setup(L, h, x, 2, 1)) {
        /* A refused request (bad header): nothing is queued; return nil, err. */
        x->busy = 0;
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    x->id = ++h->next_id;
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK) {
        xfer_clear(x);
        return luaL_error(L, "purecloud: curl_multi_add_handle: %s", curl_multi_strerror(mc));
    }
    h->pending++;
    lua_pushinteger(L, x->id);
    return 1;
}

static int drain(lua_State *L, handle *h, int out, int count) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        xfer *x = (xfer *)priv;
        CURLcode rc = m->data.result;
        curl_multi_remove_handle(h->multi, m->easy_handle);
        h->pending--;
        if (!x) continue;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, x->id);
        lua_setfield(L, -2, "id");
        int n = push_outcome(L, x, rc);
        if (n == 2) {
            lua_setfield(L, -3, "err");
            lua_pop(L, 1);
        } else {
            lua_setfield(L, -2, "res");
        }
        lua_rawseti(L, out, ++count);
        xfer_clear(x);
    }
    return count;
}

static int l_poll(lua_State *L) {
    handle *h = check_open(L);
    double timeout = luaL_optnumber(L, 2, 0);
    lua_newtable(L);
    int out = lua_gettop(L);
    int running = 0;
    curl_multi_perform(h->multi, &running);
    int count = drain(L, h, out, 0);
    if (count == 0 && h->pending > 0 && timeout > 0) {
        int numfds = 0;
        curl_multi_poll(h->multi, NULL, 0, (int)(timeout * 1000), &numfds);
        curl_multi_perform(h->multi, &running);
        count = drain(L, h, out, count);
    }
    return 1;
}

static int l_pending(lua_State *L) {
    handle *h = check_open(L);
    lua_pushinteger(L, h->pending);
    return 1;
}

static int l_tostring(lua_State *L) {
    handle *h = luaL_checkudata(L, 1, CURL_MT);
    lua_pushfstring(L, "purecloud.curl(%s)", h->closed ? "closed" : "open");
    return 1;
}

/* The module's only exported symbol. It requires purecloud.core first: the
 * error metatable (PC_ERROR_MT) every error of this module carries is
 * registered there, and so is the decoder it shares (PC_JSON_API). */
__attribute__((visibility("default"))) int luaopen_purecloud_transport_curl(lua_State *L) {
    static const luaL_Reg methods[] = {{"perform", l_perform}, {"submit", l_submit}, {"poll", l_poll},
                                       {"pending", l_pending}, {"close", l_close}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"new", l_new}, {NULL, NULL}};
    lua_getglobal(L, "require");
    lua_pushliteral(L, "purecloud.core");
    lua_call(L, 1, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, PC_JSON_API);
    json = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!json || !json->decode) return luaL_error(L, "purecloud.transport.curl: purecloud.core has no JSON decoder to share");
    lua_newtable(L);
    pc_class(L, CURL_MT, methods, l_close, l_tostring);
    luaL_setfuncs(L, fns, 0);
    return 1;
}
