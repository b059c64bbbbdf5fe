#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Installs a build of evtchnx into a fresh prefix and checks the result as a
# user of the installed library would see it:
#   - the tree: library + SONAME links, header, evtchnx.pc, CMake package,
#     evtchnx-labd in libexecdir, the evtchnx tool in bindir, nothing else
#     of the build (no static archive, no reference to the build tree);
#   - the ABI: the library exports exactly the evtchnx_* functions of
#     include/evtchnx.h, each as NAME@@EVTCHNX_1.0, and its SONAME is
#     libevtchnx.so.<soversion>;
#   - examples/c/ping.c built through pkg-config (examples/c/Makefile) and
#     through find_package(evtchnx) both run, on the private lab "sim" and
#     on a shared lab "sim:NAME" whose server the installed library must find
#     by itself (EVTCHNX_LABD unset);
#   - the installed evtchnx tool, the Python package and the Lua modules (Lua
#     5.4 and LuaJIT) run in an empty environment but for the prefix's own
#     search paths (PATH, PYTHONPATH, LUA_PATH, LUA_CPATH): no
#     LD_LIBRARY_PATH; each loads the installed libevtchnx.so.1;
#   - `cmake --build BUILD --target uninstall` leaves folders only.
# Then the same once more for `DESTDIR=DIR cmake --install BUILD --prefix /usr`:
# the files must land in Debian's layout (lib/python3/dist-packages,
# lib/<multiarch>/lua/5.x, share/lua/5.x), folders the interpreters search
# by default, and run from DIR.
#
# Run by CTest (test "install"); see tests/install/CMakeLists.txt for the
# arguments.
set -euo pipefail

die() { echo "install-test: FAIL: $*" >&2; exit 1; }
step() { echo; echo "==== install-test: $*"; }

build_dir='' source_dir='' work_dir='' config='' cmake=cmake cc=cc
libdir=lib libexecdir=libexec bindir=bin includedir=include
datadir=share multiarch=''
version='' soversion='' with_cli=1 labd_install_path=''
python=none lua54=none luajit=none
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build_dir=$2 ;;
	--source-dir) source_dir=$2 ;;
	--work-dir) work_dir=$2 ;;
	--config) config=$2 ;;
	--cmake) cmake=$2 ;;
	--cc) cc=$2 ;;
	--libdir) libdir=$2 ;;
	--libexecdir) libexecdir=$2 ;;
	--bindir) bindir=$2 ;;
	--includedir) includedir=$2 ;;
	--datadir) datadir=$2 ;;
	--multiarch) multiarch=$2 ;;
	--python) python=$2 ;;
	--lua54) lua54=$2 ;;
	--luajit) luajit=$2 ;;
	--version) version=$2 ;;
	--soversion) soversion=$2 ;;
	--with-cli) with_cli=$2 ;;
	--labd-install-path) labd_install_path=$2 ;;
	*) die "unknown argument $1" ;;
	esac
	shift 2
done
if [ -z "$build_dir" ] || [ -z "$source_dir" ] || [ -z "$work_dir" ]; then
	die "missing --build-dir/--source-dir/--work-dir"
fi
if [ -z "$version" ] || [ -z "$soversion" ]; then
	die "missing --version/--soversion"
fi
for tool in nm readelf make pkg-config realpath; do
	command -v "$tool" >/dev/null || die "$tool is not installed (see scripts/packages.txt)"
done

# Nothing from the caller's environment may point at the build tree.
unset EVTCHNX_LABD EVTCHNX_TARGET LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
unset CFLAGS LDFLAGS CPPFLAGS LDLIBS DESTDIR
[ "$python" = none ] || [ -x "$python" ] || die "no Python interpreter $python"

rm -rf "$work_dir"
mkdir -p "$work_dir"
# The prefix lies outside the build tree, so that a reference to the build
# tree in an installed file shows.  It is removed on success.
prefix=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-install.XXXXXX")
trap 'echo "install-test: the installed tree stays in $prefix"' EXIT
lib="$prefix/$libdir"

step "cmake --install $build_dir --prefix $prefix"
install_args=(--install "$build_dir" --prefix "$prefix")
[ -n "$config" ] && install_args+=(--config "$config")
"$cmake" "${install_args[@]}" >"$work_dir/install.log" 2>&1 ||
	{ cat "$work_dir/install.log"; die "cmake --install failed"; }
(cd "$prefix" && find . \( -type f -o -type l \) | LC_ALL=C sort) | tee "$work_dir/tree.txt"
# Every install rule must honour the prefix (an absolute DESTINATION, e.g. a
# system site-packages directory, would write outside it).
manifest="$build_dir/install_manifest.txt"
[ -s "$manifest" ] || die "cmake --install wrote no $manifest"
if grep -v -F "$prefix/" "$manifest" >"$work_dir/outside.txt"; then
	cat "$work_dir/outside.txt"
	die "files were installed outside --prefix $prefix (absolute install DESTINATION)"
fi

step "installed tree"
real="$lib/libevtchnx.so.$version"
if [ ! -f "$real" ] || [ -L "$real" ]; then
	die "missing $real (a regular file)"
fi
[ "$(readlink "$lib/libevtchnx.so.$soversion")" = "libevtchnx.so.$version" ] ||
	die "$lib/libevtchnx.so.$soversion does not point to libevtchnx.so.$version"
[ "$(readlink "$lib/libevtchnx.so")" = "libevtchnx.so.$soversion" ] ||
	die "$lib/libevtchnx.so does not point to libevtchnx.so.$soversion"
cmp -s "$source_dir/include/evtchnx.h" "$prefix/$includedir/evtchnx.h" ||
	die "$prefix/$includedir/evtchnx.h differs from include/evtchnx.h"
[ -f "$lib/pkgconfig/evtchnx.pc" ] || die "missing $lib/pkgconfig/evtchnx.pc"
for f in evtchnxConfig.cmake evtchnxConfigVersion.cmake evtchnxTargets.cmake; do
	[ -f "$lib/cmake/evtchnx/$f" ] || die "missing $lib/cmake/evtchnx/$f"
done
labd="$prefix/$libexecdir/evtchnx-labd"
[ -x "$labd" ] || die "missing $labd"
cli="$prefix/$bindir/evtchnx"
if [ "$with_cli" = 1 ]; then
	[ -x "$cli" ] || die "missing $cli"
fi
if grep -q 'labcore' "$work_dir/tree.txt"; then
	die "an internal library was installed"
fi
# Text files must not name the build or source tree (binaries carry debug
# paths, which is fine; RPATHs are checked below).
if grep -rIlF -e "$build_dir" -e "$source_dir" "$prefix" >"$work_dir/leaks.txt"; then
	cat "$work_dir/leaks.txt"
	die "installed files refer to the build or source tree"
fi
# The library and the lab server need no RUNPATH; the tool finds the
# library relative to itself.
for elf in "$real" "$labd"; do
	if readelf -d "$elf" | grep -E '\((RPATH|RUNPATH)\)'; then
		die "$elf keeps an RPATH after install"
	fi
done
if [ "$with_cli" = 1 ]; then
	want="\$ORIGIN/$(realpath -m --relative-to="/p/$bindir" "/p/$libdir")"
	got=$(readelf -d "$cli" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')
	[ "$got" = "$want" ] || die "$cli has RUNPATH '$got', expected '$want'"
	echo "$cli: RUNPATH $got"
fi
echo "tree ok"

step "SONAME and exported symbols"
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libevtchnx.so.$soversion" ] || die "SONAME is '$soname', expected libevtchnx.so.$soversion"
echo "SONAME $soname"

nm -D --defined-only "$real" >"$work_dir/exports.txt"
bad=$(awk '
	$2 == "A" && $3 ~ /^EVTCHNX_[0-9.]+$/ { next }   # version nodes
	$3 ~ /^evtchnx_[a-z0-9_]+@@EVTCHNX_1\.[0-9]+$/ && $2 == "T" { next }
	{ print }' "$work_dir/exports.txt")
if [ -n "$bad" ]; then
	echo "$bad"
	die "the library exports symbols other than evtchnx_*@@EVTCHNX_1.N functions"
fi
# Every function of the public header is exported, and nothing else.
tr '\n' ' ' <"$source_dir/include/evtchnx.h" | grep -o 'EVTCHNX_API[^;(]*(' |
	grep -o 'evtchnx_[a-z_0-9]*($' | tr -d '(' | LC_ALL=C sort -u >"$work_dir/api.txt"
sed -n 's/.* T \(evtchnx_[a-z0-9_]*\)@@EVTCHNX_1\.[0-9]*$/\1/p' "$work_dir/exports.txt" |
	LC_ALL=C sort -u >"$work_dir/exported.txt"
[ -s "$work_dir/api.txt" ] || die "no EVTCHNX_API function found in include/evtchnx.h"
if ! diff -u "$work_dir/api.txt" "$work_dir/exported.txt"; then
	die "exports differ from the functions declared in include/evtchnx.h (- header, + library)"
fi
echo "exports ok: $(wc -l <"$work_dir/exported.txt") functions, all @@EVTCHNX_1.N"
# A released node never changes: what 1.0 exported, it still exports there.
for f in $(awk '$3 ~ /@@EVTCHNX_1\.1$/ { sub(/@@.*/, "", $3); print $3 }' "$work_dir/exports.txt"); do
	case $f in
	evtchnx_domain_grant | evtchnx_alloc_unbound_batch | evtchnx_bind_interdomain_batch | \
		evtchnx_unbind_batch | evtchnx_unmask_batch | evtchnx_status_batch) ;;
	*) die "$f is new in EVTCHNX_1.1 but not listed here" ;;
	esac
done

export PKG_CONFIG_PATH="$lib/pkgconfig"
run_env=(env -u EVTCHNX_LABD "LD_LIBRARY_PATH=$lib")

step "pkg-config"
pc_version=$(pkg-config --modversion evtchnx)
[ "$pc_version" = "$version" ] || die "pkg-config --modversion says '$pc_version', expected $version"
pc_prefix=$(pkg-config --variable=prefix evtchnx)
[ "$pc_prefix" = "$prefix" ] || die "evtchnx.pc has prefix '$pc_prefix', expected $prefix"
echo "cflags: $(pkg-config --cflags evtchnx)"
echo "libs:   $(pkg-config --libs evtchnx)"

step "build examples/c/ping.c with its Makefile (pkg-config)"
mkdir -p "$work_dir/pc"
cp "$source_dir/examples/c/ping.c" "$source_dir/examples/c/Makefile" "$work_dir/pc/"
make -C "$work_dir/pc" CC="$cc" CFLAGS="-O2 -g -Werror" ping
ping_pc="$work_dir/pc/ping"
"${run_env[@]}" ldd "$ping_pc" | grep -F "libevtchnx.so.$soversion => $lib/" ||
	die "$ping_pc does not load the installed libevtchnx.so.$soversion"

step "build examples/c/ping.c with find_package(evtchnx)"
mkdir -p "$work_dir/cm-src"
cp "$source_dir/examples/c/ping.c" "$work_dir/cm-src/"
next_major=$((soversion + 1))
cat >"$work_dir/cm-src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(evtchnx_install_test LANGUAGES C)
find_package(evtchnx $version REQUIRED CONFIG)
if(NOT TARGET evtchnx::evtchnx)
	message(FATAL_ERROR "find_package(evtchnx) gave no evtchnx::evtchnx")
endif()
if(NOT evtchnx_VERSION VERSION_EQUAL "$version")
	message(FATAL_ERROR "evtchnx_VERSION is \${evtchnx_VERSION}, expected $version")
endif()
function(probe_next_major)
	find_package(evtchnx $next_major QUIET CONFIG)
	if(evtchnx_FOUND)
		message(FATAL_ERROR "evtchnx $version accepted a request for version $next_major")
	endif()
endfunction()
probe_next_major()
add_executable(ping ping.c)
target_link_libraries(ping PRIVATE evtchnx::evtchnx)
target_compile_options(ping PRIVATE -Wall -Wextra -Werror)
EOF
"$cmake" -S "$work_dir/cm-src" -B "$work_dir/cm-build" \
	"-DCMAKE_PREFIX_PATH=$prefix" "-DCMAKE_C_COMPILER=$cc" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work_dir/cm-build"
ping_cm="$work_dir/cm-build/ping"
"${run_env[@]}" ldd "$ping_cm" | grep -F "libevtchnx.so.$soversion => $lib/" ||
	die "$ping_cm does not load the installed libevtchnx.so.$soversion"

lab="install-test-$$-$RANDOM"
for bin in "$ping_pc" "$ping_cm"; do
	step "run $bin sim"
	"${run_env[@]}" timeout 60 "$bin" sim || die "$bin sim failed"
	step "run $bin sim:$lab (the installed library starts the installed evtchnx-labd)"
	"${run_env[@]}" timeout 60 "$bin" "sim:$lab" || die "$bin sim:$lab failed"
done

# Without an executable lab server at the installed place, a new shared lab
# cannot start: proof that the run above used the installed evtchnx-labd.
# (Skipped when an evtchnx-labd is installed where the library looks last.)
if [ -n "$labd_install_path" ] && [ -e "$labd_install_path" ]; then
	echo "install-test: $labd_install_path exists, skipping the missing-labd check"
else
	step "shared lab with the installed evtchnx-labd made unusable"
	chmod a-x "$labd"
	set +e
	"${run_env[@]}" timeout 60 "$ping_pc" "sim:$lab-nolabd" >"$work_dir/nolabd.log" 2>&1
	rc=$?
	set -e
	chmod a+x "$labd"
	cat "$work_dir/nolabd.log"
	[ "$rc" = 1 ] || die "expected ping to fail (exit 1) without a lab server, got $rc"
fi

unset PKG_CONFIG_PATH

# ---- the bindings and the tool, from the installed tree alone ---------------
# Where the install puts the bindings for PREFIX; the same table as
# cmake/EvtchnxInstallDirs.cmake.in, written down again to check it.
pyxy=''
if [ "$python" != none ]; then
	pyxy=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
fi
layout() {
	case "$1" in
	/usr)
		py_rel=lib/python3/dist-packages
		luac_rel=lib/${multiarch:+$multiarch/}lua lual_rel=share/lua ;;
	/usr/local)
		py_rel=lib/python$pyxy/dist-packages
		luac_rel=lib/lua lual_rel=share/lua ;;
	*)
		py_rel=lib/python3/dist-packages
		luac_rel=$libdir/lua lual_rel=$datadir/lua ;;
	esac
}

# The folder a process loaded libevtchnx.so.1 from, read from its
# /proc/self/maps (printed by the scripts below as "lib DIR").
python_script='
import os, sys
import evtchnx
pkgdir, lab = sys.argv[1], sys.argv[2]
got = os.path.dirname(os.path.realpath(evtchnx.__file__))
assert got == os.path.realpath(pkgdir), "evtchnx imported from " + got
for target in ("sim", "sim:" + lab):
    with evtchnx.Handle(target, domid=1) as a, evtchnx.Handle(target, domid=2) as b:
        p = a.alloc_unbound(2)
        q = b.bind_interdomain(1, p)
        assert b.wait(5.0) == q
        b.unmask(q)
        a.send(p)
        assert b.wait(5.0) == q
with open("/proc/self/maps") as maps:
    libs = {l.split()[-1] for l in maps if "/libevtchnx.so." in l}
assert len(libs) == 1, libs
print("ok", evtchnx.version())
print("lib", os.path.dirname(libs.pop()))
'
lua_script='
local evtchnx = require "evtchnx"
local lab = ...
local function roundtrip(target)
	local a = evtchnx.open{ target = target, domid = 1 }
	local b = evtchnx.open{ target = target, domid = 2 }
	local p = a:alloc_unbound(evtchnx.DOMID_SELF, 2)
	local q = b:bind_interdomain(1, p)
	assert(b:wait(5000) == q)
	b:unmask(q)
	a:send(p)
	assert(b:wait(5000) == q)
	a:close()
	b:close()
end
roundtrip("sim")
roundtrip("sim:" .. lab)
local lib
for line in io.lines("/proc/self/maps") do
	local path = line:match("(/%S*/libevtchnx%.so%.1[%.%d]*)$")
	if path then assert(lib == nil or lib == path, path); lib = path end
end
print("ok " .. evtchnx.version())
print("core " .. package.searchpath("evtchnx_core", package.cpath))
print("lib " .. assert(lib, "libevtchnx.so.1 not mapped"):match("^(.*)/[^/]*$"))
'

# same_dir A B: A and B are the same folder.
same_dir() { [ "$(realpath -m "$1")" = "$(realpath -m "$2")" ]; }

# check_runtime ROOT PREFIX: the install of PREFIX lies in ROOT (DESTDIR, or
# empty); runs everything from there in an empty environment.
check_runtime() {
	local root=$1 pfx=$2 base=$1$2 lab out abi interp
	layout "$pfx"
	lab="install-test-$$-$RANDOM"
	local bin="$base/$bindir"
	if [ "$with_cli" = 1 ]; then
		step "$bin/evtchnx version, demo (env -i PATH=$bin:/usr/bin:/bin)"
		out=$(env -i "PATH=$bin:/usr/bin:/bin" timeout 60 evtchnx version) ||
			die "the installed evtchnx does not start"
		echo "$out"
		case "$out" in
		*"$version"*) ;;
		*) die "'evtchnx version' does not print $version" ;;
		esac
		out=$(env -i "PATH=$bin:/usr/bin:/bin" ldd "$bin/evtchnx" |
			sed -n "s|^[[:space:]]*libevtchnx\.so\.$soversion => \(.*\)/[^/]* (.*|\1|p")
		same_dir "$out" "$base/$libdir" ||
			die "$bin/evtchnx loads libevtchnx.so.$soversion from '$out', not $base/$libdir"
		env -i "PATH=$bin:/usr/bin:/bin" timeout 120 \
			evtchnx demo --quiet --rounds 50 --lab "$lab-demo" >"$work_dir/demo.log" 2>&1 ||
			{ cat "$work_dir/demo.log"; die "evtchnx demo failed"; }
		tail -n 1 "$work_dir/demo.log"
	fi

	if [ "$python" != none ]; then
		local pkg="$base/$py_rel/evtchnx"
		step "$python: import evtchnx (env -i PYTHONPATH=$base/$py_rel)"
		[ -f "$pkg/__init__.py" ] || die "missing $pkg/__init__.py"
		out=$(env -i "PATH=/usr/bin:/bin" "PYTHONPATH=$base/$py_rel" \
			timeout 60 "$python" -c "$python_script" "$pkg" "$lab-py" 2>&1) ||
			{ echo "$out"; die "$python: the installed package does not work"; }
		echo "$out"
		same_dir "$(sed -n 's/^lib //p' <<<"$out")" "$base/$libdir" ||
			die "the Python extension did not load $base/$libdir/libevtchnx.so.$soversion"
	fi

	for flavour in 5.4:"$lua54" 5.1:"$luajit"; do
		abi=${flavour%%:*}
		interp=${flavour#*:}
		[ "$interp" != none ] && [ -n "$interp" ] || continue
		local cdir="$base/$luac_rel/$abi" ldir="$base/$lual_rel/$abi"
		step "$interp: require \"evtchnx\" (env -i LUA_PATH=$ldir/?.lua LUA_CPATH=$cdir/?.so)"
		[ -f "$cdir/evtchnx_core.so" ] || die "missing $cdir/evtchnx_core.so"
		[ -f "$ldir/evtchnx.lua" ] || die "missing $ldir/evtchnx.lua"
		out=$(env -i "PATH=/usr/bin:/bin" "LUA_PATH=$ldir/?.lua;;" "LUA_CPATH=$cdir/?.so;;" \
			timeout 60 "$interp" - "$lab-lua${abi/./}" 2>&1 <<<"$lua_script") ||
			{ echo "$out"; die "$interp: the installed module does not work"; }
		echo "$out"
		same_dir "$(sed -n 's/^core //p' <<<"$out")" "$cdir/evtchnx_core.so" ||
			die "$interp did not load $cdir/evtchnx_core.so"
		same_dir "$(sed -n 's/^lib //p' <<<"$out")" "$base/$libdir" ||
			die "$interp: evtchnx_core.so did not load $base/$libdir/libevtchnx.so.$soversion"
	done
}

# check_uninstall ROOT: `uninstall` removes every file it installed (and
# the bytecode Python wrote) from ROOT; folders may stay.
check_uninstall() {
	local root=$1
	step "cmake --build $build_dir --target uninstall"
	"$cmake" --build "$build_dir" --target uninstall >"$work_dir/uninstall.log" 2>&1 ||
		{ cat "$work_dir/uninstall.log"; die "the uninstall target failed"; }
	tail -n 1 "$work_dir/uninstall.log"
	if find "$root" ! -type d | grep .; then
		die "files are left in $root after uninstall"
	fi
	echo "only folders are left in $root"
}

check_runtime "" "$prefix"
check_uninstall "$prefix"

# ---- DESTDIR=DIR cmake --install --prefix /usr: a package's staging tree -----
destdir=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-destdir.XXXXXX")
trap 'echo "install-test: the installed trees stay in $prefix and $destdir"' EXIT
step "DESTDIR=$destdir cmake --install $build_dir --prefix /usr"
usr_args=(--install "$build_dir" --prefix /usr)
[ -n "$config" ] && usr_args+=(--config "$config")
DESTDIR=$destdir "$cmake" "${usr_args[@]}" >"$work_dir/install-usr.log" 2>&1 ||
	{ cat "$work_dir/install-usr.log"; die "cmake --install --prefix /usr failed"; }
(cd "$destdir" && find . ! -type d | LC_ALL=C sort) | tee "$work_dir/tree-usr.txt"
if grep -v '^/usr/' "$manifest" >"$work_dir/outside.txt"; then
	cat "$work_dir/outside.txt"
	die "files were installed outside --prefix /usr"
fi
while read -r f; do
	[ -e "$destdir$f" ] || [ -L "$destdir$f" ] || die "$f is not in DESTDIR ($destdir$f)"
done <"$manifest"

# The folders of the /usr and /usr/local layouts are the interpreters' own.
step "the interpreters search the /usr and /usr/local folders by default"
for pfx in /usr /usr/local; do
	layout "$pfx"
	if [ "$python" != none ]; then
		env -i "$python" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "$pfx/$py_rel" ||
			die "$python does not search $pfx/$py_rel"
		echo "$python searches $pfx/$py_rel"
	fi
	for flavour in 5.4:"$lua54" 5.1:"$luajit"; do
		abi=${flavour%%:*}
		interp=${flavour#*:}
		[ "$interp" != none ] && [ -n "$interp" ] || continue
		env -i "$interp" - "$pfx/$luac_rel/$abi/?.so" "$pfx/$lual_rel/$abi/?.lua" <<-'EOF' ||
			local cpath, path = ...
			local function has(list, entry)
				for e in list:gmatch("[^;]+") do if e == entry then return true end end
			end
			os.exit(has(package.cpath, cpath) and has(package.path, path) and 0 or 1)
		EOF
			die "$interp does not search $pfx/$luac_rel/$abi/?.so and $pfx/$lual_rel/$abi/?.lua"
		echo "$interp searches $pfx/$luac_rel/$abi/?.so and $pfx/$lual_rel/$abi/?.lua"
	done
done

check_runtime "$destdir" /usr
check_uninstall "$destdir"

trap - EXIT
rm -rf "$prefix" "$destdir"
echo
echo "install-test: PASS"
