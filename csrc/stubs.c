/* Temporary weak defaults so the module links while parts are being written.
 * A part's real (strong) definition replaces its stub at link time.
 * TODO(foundation): delete once every part exists. */
#include "pc.h"
__attribute__((weak)) int pc_open_transport(lua_State *L) { (void)L; return 0; }
__attribute__((weak)) int pc_open_protocol(lua_State *L) { (void)L; return 0; }
__attribute__((weak)) int pc_open_auth(lua_State *L) { (void)L; return 0; }
__attribute__((weak)) int pc_open_models(lua_State *L) { (void)L; return 0; }
