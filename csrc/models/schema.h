/* Static model and operation tables, generated from the contract
 * (csrc/models/generated.c), and what the encoder needs to walk them. */
#ifndef PC_SCHEMA_H
#define PC_SCHEMA_H
#include "pc.h"

typedef enum { PC_ANY, PC_STRING, PC_INTEGER, PC_NUMBER, PC_BOOLEAN, PC_OBJECT, PC_ARRAY, PC_MAP, PC_ANYOBJECT } pc_kind;
typedef enum { PC_IN_PATH, PC_IN_QUERY, PC_IN_BODY } pc_in;

typedef struct {
    const char *name;
    int schema;
    int read_only; /* dropped from request bodies */
} pc_field;

typedef struct {
    pc_kind kind;
    const char *name;          /* definition name, or NULL for an anonymous schema */
    int items;                 /* ARRAY: item schema; MAP/OBJECT: additionalProperties schema; else -1 */
    const pc_field *fields;    /* sorted by name */
    int nfields;
    const char *const *enums;
    int nenums;
    const char *const *required; /* request-side (tools/request-exceptions.lua applied) */
    int nrequired;
} pc_schema;

typedef struct {
    const char *name;
    const char *lua_name;
    pc_in where;
    int required;
    int multi;
    int schema;
    double min, max; /* integer parameters: the accepted range (format and request-exceptions.lua) */
} pc_param;

/* A compiled path template: a literal run, then the parameter that follows
 * it (an index into the operation's params), or -1 after the last run.
 * "/api/v2/users/{userId}/roles" is {"/api/v2/users/", 0}, {"/roles", -1}. */
typedef struct {
    const char *literal;
    int len;
    int param;
} pc_segment;

/* One operation, as the runtime uses it: everything known at generation
 * time is here (tools/gen-models.lua), nothing is recomputed at load. The
 * generator writes designated initializers, so a field reordered or renamed
 * here cannot silently take another's value. Its handle is its index + 1. */
typedef struct {
    const char *name;  /* the official Python SDK's method name, sorted */
    const char *alias; /* the seed's (2016 Ruby SDK's) name of the same operation, or NULL */
    const char *class; /* the table it lives on: "users", "presence", "authorization", "routing", "groups" */
    const char *method;
    const char *path;           /* the template, for people and logs */
    const pc_segment *segments; /* … compiled: what the URL builder walks */
    int nsegments;
    const pc_param *params; /* the positional ones first, in the call's order, then the optional ones */
    int nparams;
    int npos;        /* positional arguments: params[0 .. npos-1] */
    int max_args;    /* npos, plus one for the options table when there are optional parameters */
    int body_schema; /* -1: no body */
    int safe;        /* repeating it cannot apply anything twice (GET, PUT, DELETE, read-only POSTs) */
    int prepared;    /* its common call is its (at most two) path parameters, in the template's order */
    int deprecated;  /* deprecated in the official SDK (its first call warns) */
    int preview;     /* a preview operation in the official SDK */
    int seed_body_optional; /* its seed alias took the body in opts.body (the 2016 call) */
    /* A paged listing (tools/gen-models.lua, "Paged listings"), else NULL: */
    const char *paging;       /* "numbered" | "next_page" | "cursor" */
    const char *paging_pages; /* its helpers' names: the pager (…_pages) and the iterator (each_…) */
    const char *paging_each;
    const char *paging_items; /* the field of a page holding its items */
    int paging_follow;        /* next_page: the handle of the operation that follows nextPage */
} pc_operation;

extern const pc_schema pc_schemas[];
extern const pc_operation pc_operations[];
extern const int pc_noperations;

/* The operation of the handle at idx (its index + 1), raising for anything
 * else (csrc/models/encode.c). */
const pc_operation *pc_check_op(lua_State *L, int idx);

#endif
