-- Builds the berth Lua module from the C files beside this one against an
-- installed libberth, with the flags pkg-config gives (set PKG_CONFIG_PATH,
-- or PKG_CONFIG_SYSROOT_DIR for a DESTDIR install):
--   cd bindings/lua && luarocks --lua-version 5.4 make [--tree DIR]
-- The version is libberth's (configure.ac); tests/install/installed.sh
-- checks that the two agree and that the module builds and loads.
rockspec_format = "3.0"
package = "berth"
version = "0.1.0-1"
source = {
	-- luarocks make builds the sources in this directory; no download
	url = "file://.",
}
description = {
	summary = "Containers from Lua: the binding of libberth, an embeddable C library doing what Docker does",
	detailed = "See docs/lua.md in the berth sources.",
	license = "see the berth sources",
}
dependencies = {
	"lua >= 5.4, < 5.5",
}
build = {
	type = "command",
	build_command = [[$(CC) $(CFLAGS) -fvisibility=hidden -I$(LUA_INCDIR) ]] ..
		[[`pkg-config --cflags libberth jansson` berth.c cgroup.c container.c image.c network.c objects.c ]] ..
		[[ops.c runtime.c storage.c volume.c -o berth.so $(LIBFLAG) `pkg-config --libs libberth jansson`]],
	install = {
		lib = { berth = "berth.so" },
	},
}
