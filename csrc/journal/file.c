/* The bulk journal's file: append-only lines, each written whole and
 * flushed to the kernel before the call it announces goes out (and, with
 * sync, to the disk). The format and its rules are lua/purecloud/journal.lua's;
 * this unit only keeps the promises a Lua file handle cannot:
 *
 *   core.journal_open(path) -> file, contents | nil, message
 *     Created 0600 (it holds ids and emails; an existing file is narrowed to
 *     0600), never through a symbolic link (O_NOFOLLOW), only a regular
 *     file, and locked (flock, exclusive, not waiting) so that two processes
 *     resuming the same journal cannot both send its calls.
 *   file:append(line, sync) -> true | nil, message
 *     One write(2) loop of the whole line (O_APPEND), then fsync when asked.
 *   file:truncate(length) -> true | nil, message   cut a torn last line
 *   file:close()                                   idempotent; also __gc / __close
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pc.h"

#define JOURNAL_MT "purecloud.journal_file"
/* A journal of 100 000 calls is ~10 MB; past this cap it is not one of ours. */
#define JOURNAL_MAX_BYTES (256L * 1024 * 1024)

typedef struct {
    int fd; /* -1 once closed */
} jfile;

static int fail(lua_State *L, const char *what, int err) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, strerror(err));
    return 2;
}

static jfile *check(lua_State *L) {
    jfile *j = (jfile *)luaL_checkudata(L, 1, JOURNAL_MT);
    if (j->fd < 0) luaL_error(L, "purecloud: the journal file is closed");
    return j;
}

static int l_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    jfile *j = (jfile *)lua_newuserdata(L, sizeof *j);
    j->fd = -1;
    luaL_getmetatable(L, JOURNAL_MT);
    lua_setmetatable(L, -2);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == ELOOP) {
            lua_pushnil(L);
            lua_pushliteral(L, "is a symbolic link (refused: a journal must be a file of its own)");
            return 2;
        }
        return fail(L, "cannot open it", errno);
    }
    j->fd = fd; /* owned by the userdata from here: every return below closes it through __gc */
    struct stat st;
    if (fstat(fd, &st) != 0) return fail(L, "cannot stat it", errno);
    if (!S_ISREG(st.st_mode)) {
        lua_pushnil(L);
        lua_pushliteral(L, "is not a regular file");
        return 2;
    }
    if (st.st_size > JOURNAL_MAX_BYTES) {
        lua_pushnil(L);
        lua_pushliteral(L, "is larger than 256 MiB: not a journal of this library");
        return 2;
    }
    if ((st.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0) return fail(L, "cannot make it private (0600)", errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            lua_pushnil(L);
            lua_pushliteral(L, "is in use by another process (a batch with the same journal is running)");
            return 2;
        }
        return fail(L, "cannot lock it", errno);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    off_t at = 0;
    for (;;) {
        char chunk[8192];
        ssize_t n = pread(fd, chunk, sizeof chunk, at);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            luaL_pushresult(&b);
            return fail(L, "cannot read it", e);
        }
        if (n == 0) break;
        luaL_addlstring(&b, chunk, (size_t)n);
        at += n;
    }
    luaL_pushresult(&b);
    return 2;
}

static int l_append(lua_State *L) {
    jfile *j = check(L);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    int sync = lua_toboolean(L, 3);
    while (n > 0) {
        ssize_t w = write(j->fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(L, "cannot write it", errno);
        }
        s += w;
        n -= (size_t)w;
    }
    if (sync && fsync(j->fd) != 0) return fail(L, "cannot sync it", errno);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_truncate(lua_State *L) {
    jfile *j = check(L);
    lua_Integer len = luaL_checkinteger(L, 2);
    luaL_argcheck(L, len >= 0, 2, "a length of 0 or more");
    if (ftruncate(j->fd, (off_t)len) != 0) return fail(L, "cannot cut it back", errno);
    if (fsync(j->fd) != 0) return fail(L, "cannot sync it", errno);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_close(lua_State *L) {
    jfile *j = (jfile *)luaL_checkudata(L, 1, JOURNAL_MT);
    if (j->fd >= 0) {
        close(j->fd); /* releases the lock */
        j->fd = -1;
    }
    return 0;
}

static int l_tostring(lua_State *L) {
    jfile *j = (jfile *)luaL_checkudata(L, 1, JOURNAL_MT);
    lua_pushstring(L, j->fd >= 0 ? "purecloud.journal_file" : "purecloud.journal_file (closed)");
    return 1;
}

void pc_open_journal(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"append", l_append}, {"truncate", l_truncate}, {"close", l_close}, {NULL, NULL}};
    pc_class(L, JOURNAL_MT, methods, l_close, l_tostring);
    lua_pushcfunction(L, l_open);
    lua_setfield(L, -2, "journal_open");
}
