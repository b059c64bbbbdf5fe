#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
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
#     by itself (EVTCHNX_LABD unset).
#
# Run by CTest (test "install"); see tests/install/CMakeLists.txt for the
# arguments.
set -euo pipefail

die() { echo "install-test: FAIL: $*" >&2; exit 1; }
step() { echo; echo "==== install-test: $*"; }

build_dir='' source_dir='' work_dir='' config='' cmake=cmake cc=cc
libdir=lib libexecdir=libexec bindir=bin includedir=include
version='' soversion='' with_cli=1 labd_install_path=''
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
for tool in nm readelf make pkg-config; do
	command -v "$tool" >/dev/null || die "$tool is not installed (see scripts/packages.txt)"
done

# Nothing from the caller's environment may point at the build tree.
unset EVTCHNX_LABD EVTCHNX_TARGET LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
unset CFLAGS LDFLAGS CPPFLAGS LDLIBS

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
elves=("$real" "$labd")
[ "$with_cli" = 1 ] && elves+=("$cli")
for elf in "${elves[@]}"; do
	if readelf -d "$elf" | grep -E '\((RPATH|RUNPATH)\)'; then
		die "$elf keeps an RPATH after install"
	fi
done
echo "tree ok"

step "SONAME and exported symbols"
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libevtchnx.so.$soversion" ] || die "SONAME is '$soname', expected libevtchnx.so.$soversion"
echo "SONAME $soname"

nm -D --defined-only "$real" >"$work_dir/exports.txt"
bad=$(awk '
	$2 == "A" && $3 ~ /^EVTCHNX_[0-9.]+$/ { next }   # version nodes
	$3 ~ /^evtchnx_[a-z0-9_]+@@EVTCHNX_1\.0$/ && $2 == "T" { next }
	{ print }' "$work_dir/exports.txt")
if [ -n "$bad" ]; then
	echo "$bad"
	die "the library exports symbols other than evtchnx_*@@EVTCHNX_1.0 functions"
fi
# Every function of the public header is exported, and nothing else.
tr '\n' ' ' <"$source_dir/include/evtchnx.h" | grep -o 'EVTCHNX_API[^;(]*(' |
	grep -o 'evtchnx_[a-z_0-9]*($' | tr -d '(' | LC_ALL=C sort -u >"$work_dir/api.txt"
sed -n 's/.* T \(evtchnx_[a-z0-9_]*\)@@EVTCHNX_1\.0$/\1/p' "$work_dir/exports.txt" |
	LC_ALL=C sort -u >"$work_dir/exported.txt"
[ -s "$work_dir/api.txt" ] || die "no EVTCHNX_API function found in include/evtchnx.h"
if ! diff -u "$work_dir/api.txt" "$work_dir/exported.txt"; then
	die "exports differ from the functions declared in include/evtchnx.h (- header, + library)"
fi
echo "exports ok: $(wc -l <"$work_dir/exported.txt") functions, all @@EVTCHNX_1.0"

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

if [ "$with_cli" = 1 ]; then
	step "$cli version"
	out=$("${run_env[@]}" timeout 60 "$cli" version) || die "$cli version failed"
	echo "$out"
	case "$out" in
	*"$version"*) ;;
	*) die "'evtchnx version' does not print $version" ;;
	esac
fi

trap - EXIT
rm -rf "$prefix"
echo
echo "install-test: PASS"
