/* JSON decoding candidates on one response body, bytes -> final Lua values
 * (null members dropped, integers as integers), timed in one process:
 *   purecloud   csrc/json/decode.c (pc_json_decode)
 *   cjson+post  lua-cjson 2.1 decode + the old C post-pass (strip nulls, repair integral floats)
 *   jansson     json_loadb + conversion to Lua tables
 *   cJSON       cJSON_ParseWithLength + conversion
 *   simdjson    DOM parse (C++, bench/json/simd.cpp) + conversion
 * and each library's parse alone. Build and run: bench/json/run [file] [runs].
 * Each run: full GC (untimed), then one decode timed with CLOCK_MONOTONIC;
 * candidates interleaved run by run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <jansson.h>
#include <cjson/cJSON.h>
#include "json/json.h"

int simd_decode(lua_State *L, const char *s, size_t n, int to_lua);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void push_num(lua_State *L, double v) {
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(lua_Integer)v)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
}

/* The post-pass csrc/protocol/response.c ran after cjson until the decoder. */
static void strip_nulls(lua_State *L, int idx, int depth) {
    if (depth > 200) return;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            strip_nulls(L, -1, depth + 1);
            lua_pop(L, 1);
        } else if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL &&
                   lua_type(L, -2) == LUA_TSTRING) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, idx);
        } else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number d = lua_tonumber(L, -1);
            lua_pop(L, 1);
            if (d == d && d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (lua_Number)(lua_Integer)d) {
                lua_pushvalue(L, -1);
                lua_pushinteger(L, (lua_Integer)d);
                lua_rawset(L, idx);
            }
        } else {
            lua_pop(L, 1);
        }
    }
}

static void push_jansson(lua_State *L, json_t *v) {
    luaL_checkstack(L, 3, "deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach(v, k, x) {
            if (json_is_null(x)) continue;
            lua_pushstring(L, k);
            push_jansson(L, x);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            push_jansson(L, json_array_get(v, i));
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
    case JSON_REAL: push_num(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    case JSON_NULL: lua_pushlightuserdata(L, NULL); break;
    }
}

static void push_cjson(lua_State *L, cJSON *v) {
    luaL_checkstack(L, 3, "deep");
    if (cJSON_IsObject(v)) {
        int n = cJSON_GetArraySize(v);
        lua_createtable(L, 0, n);
        for (cJSON *c = v->child; c; c = c->next) {
            if (cJSON_IsNull(c)) continue;
            lua_pushstring(L, c->string);
            push_cjson(L, c);
            lua_rawset(L, -3);
        }
    } else if (cJSON_IsArray(v)) {
        lua_createtable(L, cJSON_GetArraySize(v), 0);
        lua_Integer i = 0;
        for (cJSON *c = v->child; c; c = c->next) {
            push_cjson(L, c);
            lua_rawseti(L, -2, ++i);
        }
    } else if (cJSON_IsString(v)) {
        lua_pushstring(L, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        push_num(L, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        lua_pushboolean(L, cJSON_IsTrue(v));
    } else {
        lua_pushlightuserdata(L, NULL);
    }
}

enum { PURECLOUD, CJSON_POST, CJSON_ONLY, JANSSON, JANSSON_PARSE, CJSONLIB, CJSONLIB_PARSE, SIMD, SIMD_PARSE, PURECLOUD_AGAIN, NCAND };
static const char *NAMES[NCAND] = {"purecloud (csrc/json)", "lua-cjson + post-pass", "lua-cjson alone (no post-pass)",
                                   "jansson -> Lua",        "jansson parse only",    "cJSON -> Lua",
                                   "cJSON parse only",      "simdjson -> Lua",       "simdjson parse only",
                                   "purecloud again (order check)"};

static int one(lua_State *L, int c, const char *s, size_t n) {
    char err[160];
    switch (c) {
    case PURECLOUD:
    case PURECLOUD_AGAIN:
        if (!pc_json_decode(L, s, n, err, sizeof err)) return fprintf(stderr, "%s\n", err), 0;
        return 1;
    case CJSON_POST:
    case CJSON_ONLY:
        lua_getfield(L, LUA_REGISTRYINDEX, "bench.cjson_decode");
        lua_pushlstring(L, s, n); /* part of the cost: cjson.decode takes a Lua string */
        lua_call(L, 1, 1);
        if (c == CJSON_POST) strip_nulls(L, -1, 0);
        return 1;
    case JANSSON:
    case JANSSON_PARSE: {
        json_error_t e;
        json_t *v = json_loadb(s, n, 0, &e);
        if (!v) return 0;
        if (c == JANSSON) push_jansson(L, v);
        json_decref(v);
        return 1;
    }
    case CJSONLIB:
    case CJSONLIB_PARSE: {
        cJSON *v = cJSON_ParseWithLength(s, n);
        if (!v) return 0;
        if (c == CJSONLIB) push_cjson(L, v);
        cJSON_Delete(v);
        return 1;
    }
    case SIMD: return simd_decode(L, s, n, 1);
    case SIMD_PARSE: return simd_decode(L, s, n, 0);
    }
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "bench/fixtures/users-page-500.json";
    int runs = argc > 2 ? atoi(argv[2]) : 30;
    if (runs < 1 || runs > 10000) runs = 30;
    FILE *f = fopen(path, "rb");
    if (!f) return perror(path), 1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) return fprintf(stderr, "read failed\n"), 1;
    s[n] = 0;
    fclose(f);

    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "decode");
    lua_setfield(L, LUA_REGISTRYINDEX, "bench.cjson_decode");
    lua_pop(L, 1);

    /* Candidates are interleaved run by run, so a load change on a shared
     * machine hits all of them alike. */
    double *t = malloc(sizeof(double) * (size_t)runs * NCAND);
    if (!t) return 1;
    printf("%s: %ld bytes, %d runs each, interleaved (one decode per run, full GC before each, untimed)\n", path, n,
           runs);
    for (int c = 0; c < NCAND; c++) {
        for (int w = 0; w < 3; w++) { /* warm-up */
            if (!one(L, c, s, (size_t)n)) return fprintf(stderr, "%s failed\n", NAMES[c]), 1;
            lua_settop(L, 0);
        }
    }
    for (int r = 0; r < runs; r++) {
        for (int c = 0; c < NCAND; c++) {
            lua_gc(L, LUA_GCCOLLECT, 0);
            double t0 = now();
            one(L, c, s, (size_t)n);
            t[c * runs + r] = now() - t0;
            lua_settop(L, 0);
        }
    }
    printf("%-32s %9s %9s %9s %9s %9s\n", "candidate", "median ms", "min", "p10", "p90", "max");
    for (int c = 0; c < NCAND; c++) {
        double *x = t + c * runs;
        qsort(x, (size_t)runs, sizeof *x, cmp);
        printf("%-32s %9.3f %9.3f %9.3f %9.3f %9.3f\n", NAMES[c], x[runs / 2], x[0], x[runs / 10],
               x[runs - 1 - runs / 10], x[runs - 1]);
    }
    free(t);
    free(s);
    lua_close(L);
    return 0;
}
