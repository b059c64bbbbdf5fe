# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Builds the extension evtchnx._evtchnx for `pip install .` (pyproject.toml).

SWIG turns _evtchnx.i (and the shared ../evtchnx.i) into C in the build
folder, which is compiled against the libevtchnx that `pkg-config evtchnx`
finds.  The extension gets that library's folder as its RUNPATH, so it
loads libevtchnx.so.1 from any prefix without LD_LIBRARY_PATH.
"""

import os
import shlex
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def pkg_config(*args):
    """Run pkg-config on evtchnx; explain what is missing when it fails."""
    exe = os.environ.get("PKG_CONFIG", "pkg-config")
    try:
        out = subprocess.run([exe, *args, "evtchnx"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(
            f"evtchnx: `{exe} {' '.join(args)} evtchnx` failed ({e}): install "
            "libevtchnx (cmake --install build --prefix P) and pkg-config, "
            "and set PKG_CONFIG_PATH=P/lib/pkgconfig for another prefix")
    return out.strip()


class BuildSwig(build_ext):
    """Run SWIG into the build folder (never into the sources) first."""

    def run(self):
        swig = os.environ.get("SWIG", shutil.which("swig") or "swig")
        os.makedirs(self.build_temp, exist_ok=True)
        for ext in self.extensions:
            wrapped = []
            for src in ext.sources:
                if not src.endswith(".i"):
                    wrapped.append(src)
                    continue
                out = os.path.join(self.build_temp, "_evtchnx_wrap.c")
                cmd = [swig, "-python", "-builtin", "-interface", "_evtchnx",
                       "-outdir", self.build_temp, "-o", out]
                cmd += [f"-I{d}" for d in ext.include_dirs]
                cmd.append(src)
                self.announce("swig: " + shlex.join(cmd), level=2)
                subprocess.run(cmd, check=True)
                wrapped.append(out)
            ext.sources = wrapped
        super().run()


cflags = shlex.split(pkg_config("--cflags-only-I"))
libdir = pkg_config("--variable=libdir")
include_dirs = [f[2:] for f in cflags]
include_dirs.append(pkg_config("--variable=includedir"))

ext = Extension(
    "evtchnx._evtchnx",
    sources=[os.path.relpath(os.path.join(HERE, "_evtchnx.i"))],
    include_dirs=include_dirs,
    library_dirs=[libdir],
    libraries=["evtchnx"],
    runtime_library_dirs=[libdir],
    # SWIG's generated code has unused parameters.
    extra_compile_args=["-Wno-unused-parameter"],
)

setup(
    version=pkg_config("--modversion"),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildSwig},
)
