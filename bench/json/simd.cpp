// simdjson (Debian libsimdjson-dev 3.0.1) candidate for bench/json/bench.c:
// DOM parse, then the same Lua values as csrc/json/decode.c produces.
#include <cmath>
#include <simdjson.h>
extern "C" {
#include <lua.h>
#include <lauxlib.h>
}

static simdjson::dom::parser *parser;

static void push_num(lua_State *L, double v) {
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(lua_Integer)v)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
}

static void push(lua_State *L, simdjson::dom::element e, int in_array) {
    using simdjson::dom::element_type;
    luaL_checkstack(L, 3, "deep");
    switch (e.type()) {
    case element_type::ARRAY: {
        simdjson::dom::array a = e.get_array().value_unsafe();
        lua_createtable(L, (int)a.size(), 0);
        lua_Integer i = 0;
        for (simdjson::dom::element x : a) {
            push(L, x, 1);
            lua_rawseti(L, -2, ++i);
        }
        break;
    }
    case element_type::OBJECT: {
        simdjson::dom::object o = e.get_object().value_unsafe();
        lua_createtable(L, 0, (int)o.size());
        for (simdjson::dom::key_value_pair kv : o) {
            if (kv.value.is_null()) continue;
            lua_pushlstring(L, kv.key.data(), kv.key.size());
            push(L, kv.value, 0);
            lua_rawset(L, -3);
        }
        break;
    }
    case element_type::INT64: lua_pushinteger(L, (lua_Integer)e.get_int64().value_unsafe()); break;
    case element_type::UINT64: lua_pushnumber(L, (double)e.get_uint64().value_unsafe()); break;
    case element_type::DOUBLE: push_num(L, e.get_double().value_unsafe()); break;
    case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case element_type::BOOL: lua_pushboolean(L, e.get_bool().value_unsafe()); break;
    case element_type::NULL_VALUE: (void)in_array; lua_pushlightuserdata(L, NULL); break;
    }
}

extern "C" int simd_decode(lua_State *L, const char *s, size_t n, int to_lua) {
    if (!parser) parser = new simdjson::dom::parser();
    simdjson::dom::element doc;
    // The input is copied into a padded buffer by parse(); that copy is part of the cost.
    if (parser->parse(s, n).get(doc)) return 0;
    if (to_lua) push(L, doc, 0);
    return 1;
}
