/* The OAuth token state machine. Secrets (client secret, access and refresh
 * tokens) live in this userdata's C memory, not in Lua tables a script could
 * print; they leave it only inside the Authorization header or form body of
 * the request being sent, and are wiped when the object is collected.
 *
 * Sans-I/O: it says which token request to make and digests the answer; the
 * Lua request loop does the sending.
 *
 * Generations: each accepted token gets a new generation number. A 401 on a
 * request made with generation g invalidates the token only if g is still
 * current, so many concurrent calls that hit the same 401 cause one refresh.
 *
 * Tokens are checked when accepted, in one place (token_problem): from the
 * token endpoint, a token store, or the access_token / refresh_token options
 * a token is 1 to PC_TOKEN_MAX bytes of visible ASCII (0x21-0x7e), so it can
 * only ever go out as exactly the credential it is (no NUL to cut it short,
 * no space or CR/LF to add to the header line). An expires_in that is not a
 * positive number makes a token good for one use: it is renewed before the
 * next.
 *
 * The vault is an owner of secrets (protocol.h): it names its client secret
 * (raw and percent-encoded), its Basic credentials, its tokens, and a ring
 * of what passed through it (tokens it replaced, codes, PKCE verifiers, SAML
 * assertions) to the one scrub of every error and log line. */
#include <stdlib.h>
#include <string.h>
#include "auth/auth.h"
#include "protocol/protocol.h"
#include "text.h"

#define AUTH_MT "purecloud.auth"

/* The largest token accepted: 8 KiB. An Authorization header line is read
 * by servers and proxies into buffers of about that size (nginx's
 * large_client_header_buffers, 8k; Apache's LimitRequestFieldSize, 8190),
 * so a longer token could not be sent anyway; real ones are far smaller
 * (opaque tokens of ~100 bytes, JWTs of 1-2 KiB). */
#define PC_TOKEN_MAX 8192
#define RING 24

typedef struct {
    char *client_id;
    char *client_secret;
    char *secret_escaped; /* the client secret as a form body carries it, when that differs */
    char *basic;          /* base64(client_id:client_secret), the Basic credentials */
    char *access;
    char *refresh;
    char *ring[RING];     /* what passed through: replaced tokens, codes, verifiers, assertions */
    int ring_next;
    double expires_at;  /* 0: unknown (a fixed token) */
    lua_Integer generation;
    int fixed;          /* an access_token given by the caller (kind "access_token") */
} pc_auth;

static void wipe_free(char **p) {
    if (*p) {
        pc_wipe(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static int dup_into(char **dst, const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (!c) return 0;
    memcpy(c, s, n);
    c[n] = '\0';
    wipe_free(dst);
    *dst = c;
    return 1;
}

/* Keep *p among the secrets scrubbed (in the ring), and clear *p. */
static void retire(pc_auth *a, char **p) {
    if (!*p) return;
    wipe_free(&a->ring[a->ring_next]);
    a->ring[a->ring_next] = *p;
    a->ring_next = (a->ring_next + 1) % RING;
    *p = NULL;
}

/* Remember a secret that passes through (raw, and percent-encoded when
 * that differs): 0 when out of memory. */
static int remember(pc_auth *a, const char *s, size_t n) {
    char *c = NULL;
    if (!dup_into(&c, s, n)) return 0;
    retire(a, &c);
    pc_buf b = {NULL, 0, 0, 0, 0, 0};
    pc_add_escaped(&b, s, n);
    int ok = !b.oom;
    if (ok && (b.len != n || memcmp(b.p, s, n))) {
        ok = dup_into(&c, b.p, b.len);
        retire(a, &c);
    }
    pc_buf_release(&b);
    return ok;
}

/* What is wrong with a token, or NULL: the one check of every token. It
 * never quotes the token. */
static const char *token_problem(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TSTRING)
        return lua_pushfstring(L, "must be a string, got %s", luaL_typename(L, idx));
    size_t n;
    const unsigned char *s = (const unsigned char *)lua_tolstring(L, idx, &n);
    if (n == 0) return "is empty";
    if (n > PC_TOKEN_MAX) return lua_pushfstring(L, "is longer than %d bytes", PC_TOKEN_MAX);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) {
            static const char hex[] = "0123456789ABCDEF";
            char b[3] = {hex[s[i] >> 4], hex[s[i] & 15], 0};
            return lua_pushfstring(L, "holds a byte that is not visible ASCII (0x%s at position %d)", b,
                                   (int)(i + 1));
        }
    return NULL;
}

/* core.check_token(v) -> nil | what is wrong with it (never quoting it) */
static int l_check_token(lua_State *L) {
    luaL_checkany(L, 1);
    const char *p = token_problem(L, 1);
    if (!p) lua_pushnil(L);
    else lua_pushstring(L, p);
    return 1;
}

static pc_auth *check(lua_State *L) {
    return (pc_auth *)luaL_checkudata(L, 1, AUTH_MT);
}

static int opt_field(lua_State *L, int t, const char *k, char **dst, int is_token) {
    lua_getfield(L, t, k);
    int ok = 1;
    if (!lua_isnil(L, -1)) {
        size_t n;
        const char *p = is_token ? token_problem(L, -1) : NULL;
        if (p) return luaL_error(L, "purecloud: option '%s' %s", k, p);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return luaL_error(L, "purecloud: %s must be a string", k);
        }
        const char *s = lua_tolstring(L, -1, &n);
        if (n == 0) {
            lua_pop(L, 1);
            return luaL_error(L, "purecloud: %s must not be empty", k);
        }
        ok = dup_into(dst, s, n);
    }
    lua_pop(L, 1);
    if (!ok) return luaL_error(L, "purecloud: out of memory");
    return 0;
}

/* The vault's list function (protocol.h): every secret it knows. */
static int l_secrets(lua_State *L) {
    const pc_auth *a = lua_touserdata(L, 1);
    pc_secrets *c = lua_touserdata(L, 2);
    if (!a || !c) return 0;
    const char *fixed[] = {a->client_secret, a->secret_escaped, a->basic, a->access, a->refresh};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i]) pc_secret(c, fixed[i], strlen(fixed[i]));
    for (int i = 0; i < RING; i++)
        if (a->ring[i]) pc_secret(c, a->ring[i], strlen(a->ring[i]));
    return 0;
}

/* core.auth_new{ client_id, client_secret, access_token, refresh_token } */
static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    /* Userdata first, in a consistent empty state, so a raise below cannot leak. */
    pc_auth *a = lua_newuserdata(L, sizeof *a);
    memset(a, 0, sizeof *a);
    luaL_getmetatable(L, AUTH_MT);
    lua_setmetatable(L, -2);
    pc_secret_owner(L, -1, l_secrets);
    opt_field(L, 1, "client_id", &a->client_id, 0);
    opt_field(L, 1, "client_secret", &a->client_secret, 0);
    opt_field(L, 1, "access_token", &a->access, 1);
    opt_field(L, 1, "refresh_token", &a->refresh, 1);
    if (a->access && !a->refresh) a->fixed = 1;
    if (a->access) a->generation = 1;
    if (a->client_secret) {
        size_t sn = strlen(a->client_secret);
        pc_buf e = {NULL, 0, 0, 0, 0, 0};
        pc_add_escaped(&e, a->client_secret, sn);
        int ok = !e.oom && (e.len == sn || dup_into(&a->secret_escaped, e.p, e.len));
        pc_buf_release(&e);
        if (!ok) return luaL_error(L, "purecloud: out of memory");
    }
    if (a->client_id && a->client_secret) {
        /* "id:secret" in a userdata-owned buffer (wiped when released, or
         * collected if a raise comes first); its base64 is the one copy of
         * the Basic credentials every token request sends. */
        pc_buf *cred = pc_buf_new(L);
        int cred_idx = lua_gettop(L);
        if (!pc_buf_add(cred, a->client_id, strlen(a->client_id)) || !pc_buf_add(cred, ":", 1) ||
            !pc_buf_add(cred, a->client_secret, strlen(a->client_secret)))
            return luaL_error(L, "purecloud: out of memory");
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        pc_base64(&b, (const unsigned char *)cred->p, cred->len, 0);
        luaL_pushresult(&b);
        pc_buf_release(cred);
        lua_remove(L, cred_idx);
        size_t bn;
        const char *bs = lua_tolstring(L, -1, &bn);
        int ok = dup_into(&a->basic, bs, bn);
        lua_pop(L, 1);
        if (!ok) return luaL_error(L, "purecloud: out of memory");
    }
    return 1;
}

static int l_gc(lua_State *L) {
    pc_auth *a = check(L);
    wipe_free(&a->client_id);
    wipe_free(&a->client_secret);
    wipe_free(&a->secret_escaped);
    wipe_free(&a->basic);
    wipe_free(&a->access);
    wipe_free(&a->refresh);
    for (int i = 0; i < RING; i++) wipe_free(&a->ring[i]);
    return 0;
}

static const char *kind_of(const pc_auth *a) {
    if (a->fixed) return "access_token";
    if (a->refresh) return "refresh_token";
    if (a->client_id && a->client_secret) return "client_credentials";
    if (a->access) return "access_token";
    return "none";
}

/* a:kind() */
static int l_kind(lua_State *L) {
    lua_pushstring(L, kind_of(check(L)));
    return 1;
}

/* a:client_id() -> the (public) client id or nil */
static int l_client_id(lua_State *L) {
    pc_auth *a = check(L);
    if (a->client_id) lua_pushstring(L, a->client_id); else lua_pushnil(L);
    return 1;
}

/* The keeper's questions, answered without a policy: the token policy
 * (when a token is used, renewed, with which grant) is lua/purecloud/token.lua's.
 *
 * a:token() -> generation, expires_at | nil
 * the held access token's generation and when it expires (0: not known), or
 * nil when none is held. Numbers only: the usual call builds no string. */
static int l_token(lua_State *L) {
    pc_auth *a = check(L);
    if (!a->access) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, a->generation);
    lua_pushnumber(L, a->expires_at);
    return 2;
}

/* a:header() -> "Bearer <token>", generation | nil */
static int l_header(lua_State *L) {
    pc_auth *a = check(L);
    if (!a->access) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushliteral(L, "Bearer ");
    lua_pushstring(L, a->access);
    lua_concat(L, 2);
    lua_pushinteger(L, a->generation);
    return 2;
}

static void add_pair(pc_buf *b, const char *k, const char *v, size_t vn) {
    pc_buf_add(b, "&", 1);
    pc_buf_add(b, k, strlen(k));
    pc_buf_add(b, "=", 1);
    pc_add_escaped(b, v, vn);
}

static void add_param(lua_State *L, pc_auth *a, pc_buf *b, int params, const char *k, const char *name,
                      int required, int secret) {
    lua_getfield(L, params, k);
    size_t n;
    const char *v = lua_tolstring(L, -1, &n);
    if (!v) {
        lua_pop(L, 1);
        if (required) luaL_error(L, "purecloud: %s is required", k);
        return;
    }
    if (secret && !remember(a, v, n)) luaL_error(L, "purecloud: out of memory");
    add_pair(b, name, v, n);
    lua_pop(L, 1);
}

/* a:grant_request(grant[, params]) -> form_body, authorization_header | nil, message
 * grant: "client_credentials" | "refresh_token" | "authorization_code"
 *        (params.code, params.redirect_uri, params.code_verifier) | "saml2"
 *        (params.assertion, params.org_name). */
static int l_grant_request(lua_State *L) {
    pc_auth *a = check(L);
    const char *grant = luaL_checkstring(L, 2);
    int params = 3;
    if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    if (!a->client_id || !a->client_secret) {
        lua_pushnil(L);
        lua_pushliteral(L, "client_id and client_secret are needed to request a token");
        return 2;
    }
    /* Validate before any luaL_Buffer is open, so raising here leaks nothing. */
    if (!strcmp(grant, "refresh_token") && !a->refresh) {
        lua_pushnil(L);
        lua_pushliteral(L, "no refresh token");
        return 2;
    }
    int is_code = !strcmp(grant, "authorization_code"), is_saml = !strcmp(grant, "saml2");
    if (!is_code && !is_saml && strcmp(grant, "client_credentials") && strcmp(grant, "refresh_token"))
        return luaL_argerror(L, 2, "unknown grant");
    if ((is_code || is_saml) && lua_type(L, params) != LUA_TTABLE)
        return luaL_argerror(L, 3, "grant parameters expected");
    if (is_code) {
        lua_getfield(L, params, "code");
        lua_getfield(L, params, "redirect_uri");
        int ok = lua_isstring(L, -1) && lua_isstring(L, -2);
        lua_pop(L, 2);
        if (!ok) return luaL_argerror(L, 3, "code and redirect_uri are required");
    }
    if (is_saml) {
        lua_getfield(L, params, "assertion");
        int ok = lua_isstring(L, -1);
        lua_pop(L, 1);
        if (!ok) return luaL_argerror(L, 3, "assertion is required");
    }

    /* The form body may hold secrets: build it in a buffer that is wiped on collection. */
    pc_buf *form = pc_buf_new(L);
    int form_idx = lua_gettop(L);
    if (!strcmp(grant, "client_credentials")) {
        pc_buf_add(form, "grant_type=client_credentials", 29);
    } else if (!strcmp(grant, "refresh_token")) {
        pc_buf_add(form, "grant_type=refresh_token", 24);
        add_pair(form, "refresh_token", a->refresh, strlen(a->refresh));
    } else if (is_code) {
        pc_buf_add(form, "grant_type=authorization_code", 29);
        add_param(L, a, form, params, "code", "code", 1, 1);
        add_param(L, a, form, params, "redirect_uri", "redirect_uri", 1, 0);
        add_param(L, a, form, params, "code_verifier", "code_verifier", 0, 1);
    } else {
        const char *g = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer";
        pc_buf_add(form, g, strlen(g));
        add_param(L, a, form, params, "assertion", "assertion", 1, 1);
        add_param(L, a, form, params, "org_name", "orgName", 0, 0);
    }
    pc_buf_push(L, form);
    lua_remove(L, form_idx);
    luaL_Buffer b; /* the Basic credentials built once, at auth_new */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "Basic ");
    luaL_addstring(&b, a->basic);
    luaL_pushresult(&b);
    return 2;
}

/* a:accept(token_response_table, now) -> generation, expires_in | nil, message
 * The token (and a refresh token, when the response has one) must pass
 * token_problem; an expires_in that is missing, not a number, 0 or below
 * gives expires_in 0: a token good for one use, renewed before the next. */
static int l_accept(lua_State *L) {
    pc_auth *a = check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    double now = luaL_checknumber(L, 3);
    lua_settop(L, 3);
    lua_getfield(L, 2, "access_token");  /* 4 */
    lua_getfield(L, 2, "refresh_token"); /* 5 */
    lua_getfield(L, 2, "expires_in");    /* 6 */
    const char *p = lua_isnil(L, 4) ? "is missing" : token_problem(L, 4);
    if (p) {
        lua_pushnil(L);
        lua_pushfstring(L, "the token response's access_token %s; refused", p);
        return 2;
    }
    p = lua_isnil(L, 5) ? NULL : token_problem(L, 5);
    if (p) {
        lua_pushnil(L);
        lua_pushfstring(L, "the token response's refresh_token %s; refused", p);
        return 2;
    }
    double ttl = 0;
    if (lua_type(L, 6) == LUA_TNUMBER) {
        ttl = (double)lua_tonumber(L, 6);
        if (!(ttl > 0 && ttl < 1e15)) ttl = 0; /* (NaN, infinities, absurd lifetimes: unknown) */
    }
    size_t n, rn = 0;
    const char *tok = lua_tolstring(L, 4, &n);
    const char *rt = lua_isnil(L, 5) ? NULL : lua_tolstring(L, 5, &rn);
    retire(a, &a->access);
    if (!dup_into(&a->access, tok, n)) return luaL_error(L, "purecloud: out of memory");
    if (rt) {
        retire(a, &a->refresh);
        if (!dup_into(&a->refresh, rt, rn)) return luaL_error(L, "purecloud: out of memory");
    }
    a->expires_at = ttl > 0 ? now + ttl : 0;
    a->fixed = 0;
    a->generation++;
    lua_pushinteger(L, a->generation);
    lua_pushnumber(L, ttl);
    return 2;
}

/* a:invalidate(generation) -> true if that generation was current (now dropped) */
static int l_invalidate(lua_State *L) {
    pc_auth *a = check(L);
    lua_Integer g = luaL_checkinteger(L, 2);
    int was = a->access && g == a->generation;
    if (was) retire(a, &a->access); /* (still scrubbed: a server may quote it later) */
    lua_pushboolean(L, was);
    return 1;
}

/* a:generation() */
static int l_generation(lua_State *L) {
    lua_pushinteger(L, check(L)->generation);
    return 1;
}

static int l_tostring(lua_State *L) {
    pc_auth *a = check(L);
    lua_pushfstring(L, "purecloud.auth(%s)", kind_of(a));
    return 1;
}

int pc_open_auth(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"kind", l_kind}, {"client_id", l_client_id}, {"token", l_token},
        {"header", l_header}, {"grant_request", l_grant_request}, {"accept", l_accept},
        {"invalidate", l_invalidate}, {"generation", l_generation}, {"close", l_gc}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"auth_new", l_new}, {"check_token", l_check_token}, {NULL, NULL}};
    pc_class(L, AUTH_MT, methods, l_gc, l_tostring);
    luaL_setfuncs(L, fns, 0);
    pc_open_digest(L);
    return 0;
}
