# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Fixtures of the cffi ABI suite.

The declarations come from the public header, never typed by hand: the
header's #include lines are dropped, the rest goes through the C
preprocessor (``cc -E -P``) and the result is given to ``ffi.cdef``.  The
library is ``dlopen()``ed in ABI mode: no compiler and no glue code are
involved in the calls.

Environment (set by CTest; defaults for a run by hand from a build tree):
  EVTCHNX_LIB     path of libevtchnx.so.1
  EVTCHNX_HEADER  path of include/evtchnx.h
  EVTCHNX_CC      C compiler used as preprocessor (default: cc)
  EVTCHNX_NM      nm (default: nm)
"""

import os
import re
import subprocess
from typing import Dict, List, Set

import cffi
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))


LIB = os.environ.get("EVTCHNX_LIB") or os.path.join(
    os.environ.get("EVTCHNX_BUILD_DIR", os.path.join(SOURCE_DIR, "build")),
    "lib", "libevtchnx.so.1")
HEADER = os.environ.get("EVTCHNX_HEADER") or os.path.join(
    SOURCE_DIR, "include", "evtchnx.h")
CC = os.environ.get("EVTCHNX_CC") or "cc"
NM = os.environ.get("EVTCHNX_NM") or "nm"


def preprocess_header(path: str = HEADER, cc: str = CC) -> str:
    """The header as plain C declarations, ready for ``ffi.cdef``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # stddef.h/stdint.h: cffi knows size_t and uint32_t itself.
    text = re.sub(r"^[ \t]*#[ \t]*include\b.*$", "", text, flags=re.M)
    res = subprocess.run([cc, "-E", "-P", "-nostdinc", "-std=c11", "-x", "c",
                          "-"], input=text, capture_output=True, text=True,
                         check=True)
    return res.stdout


def header_macros(path: str = HEADER) -> Dict[str, object]:
    """The object-like #define constants of the header (integers and
    strings), e.g. {"EVTCHNX_DOMID_SELF": 0x7FF0, ...}."""
    out: Dict[str, object] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*#\s*define\s+(EVTCHNX_\w+)\s+"
                         r"(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*(/\*.*)?$", line)
            if m:
                out[m.group(1)] = int(m.group(2), 0)
                continue
            m = re.match(r'\s*#\s*define\s+(EVTCHNX_\w+)\s+"([^"]*)"', line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def header_functions(cdef: str) -> Set[str]:
    """Names of the functions the preprocessed header declares, found with
    pycparser (the C parser cffi itself uses)."""
    from pycparser import c_ast, c_parser

    prelude = ("typedef unsigned long size_t;\n"
               "typedef unsigned int uint32_t;\n"
               "typedef unsigned long uint64_t;\n")
    ast = c_parser.CParser().parse(prelude + cdef, filename=HEADER)
    names = set()
    for node in ast.ext:
        if isinstance(node, c_ast.Decl) and isinstance(node.type,
                                                       c_ast.FuncDecl):
            names.add(node.name)
    return names


def exported_symbols(lib: str = LIB, nm: str = NM) -> List[List[str]]:
    """``nm -D --defined-only`` of the library: [address, type, name@@ver]
    rows."""
    res = subprocess.run([nm, "-D", "--defined-only", lib],
                         capture_output=True, text=True, check=True)
    rows = []
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append(parts)
        elif len(parts) == 2:  # no address
            rows.append([""] + parts)
    return rows


@pytest.fixture(scope="session")
def cdef_text() -> str:
    return preprocess_header()


@pytest.fixture(scope="session")
def macros() -> Dict[str, object]:
    return header_macros()


class Recorder:
    """Wraps the cffi library object and records which functions were
    called, so that the suite can prove it called every one of them."""

    def __init__(self, lib):
        object.__setattr__(self, "_lib", lib)
        object.__setattr__(self, "called", set())

    def __getattr__(self, name):
        fn = getattr(self._lib, name)
        if callable(fn):
            self.called.add(name)
        return fn


@pytest.fixture(scope="session")
def abi(cdef_text):
    """(ffi, lib) with lib a Recorder around ffi.dlopen(libevtchnx.so.1)."""
    if not os.path.exists(LIB):
        pytest.fail(f"library not found: {LIB} (set EVTCHNX_LIB)")
    ffi = cffi.FFI()
    ffi.cdef(cdef_text)
    lib = ffi.dlopen(LIB)
    return ffi, Recorder(lib)
