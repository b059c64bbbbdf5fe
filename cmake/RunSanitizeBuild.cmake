# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Configures, builds and tests a second build of the tree with
# AddressSanitizer and UBSan (the CTest entry "sanitize").
#
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... [-DGENERATOR=...] [-DC_COMPILER=...]
#         [-DCTEST=ctest] [-DWITH_XEN=ON] [-DPYTHON3=/usr/bin/python3] [-DBUILD_EXAMPLES=ON]
#         -P RunSanitizeBuild.cmake
#
# The inner build has EVTCHNX_SANITIZE=ON, which never registers this test
# again.  -Werror stays off there: the optimiser's extra warnings under the
# sanitizers are not what this build checks.
cmake_minimum_required(VERSION 3.25)

foreach(_var IN ITEMS SOURCE_DIR BINARY_DIR)
	if(NOT ${_var})
		message(FATAL_ERROR "RunSanitizeBuild.cmake: ${_var} is not set")
	endif()
endforeach()
if(NOT DEFINED WITH_XEN)
	set(WITH_XEN ON)
endif()
if(NOT PYTHON3)
	set(PYTHON3 /usr/bin/python3)
endif()
if(NOT CTEST)
	get_filename_component(_bindir "${CMAKE_COMMAND}" DIRECTORY)
	set(CTEST "${_bindir}/ctest")
endif()
if(NOT DEFINED BUILD_EXAMPLES)
	set(BUILD_EXAMPLES ON)
endif()

set(_configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}"
	-DCMAKE_BUILD_TYPE=Debug
	"-DCMAKE_C_FLAGS_DEBUG=-g -O1"
	-DEVTCHNX_SANITIZE=ON
	-DEVTCHNX_SANITIZE_TEST=OFF
	-DEVTCHNX_WERROR=OFF
	-DEVTCHNX_BUILD_TESTS=ON
	-DEVTCHNX_BUILD_PYTHON=OFF
	-DEVTCHNX_BUILD_LUA=OFF
	-DEVTCHNX_BUILD_BENCH=OFF
	"-DEVTCHNX_BUILD_EXAMPLES=${BUILD_EXAMPLES}"
	-DEVTCHNX_XEN_VM_TESTS=OFF
	"-DEVTCHNX_WITH_XEN=${WITH_XEN}"
	"-DPython3_EXECUTABLE=${PYTHON3}")
# The generator and compiler can only be chosen when the build is new.
if(NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
	if(GENERATOR)
		list(APPEND _configure -G "${GENERATOR}")
	endif()
	if(C_COMPILER)
		list(APPEND _configure "-DCMAKE_C_COMPILER=${C_COMPILER}")
	endif()
endif()

# Sanitizer reports fail the test that triggers them; leaks count.
set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=0:halt_on_error=1")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")

function(run_step title)
	message(STATUS "---- sanitize: ${title}")
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
	if(NOT _rc EQUAL 0)
		message(FATAL_ERROR "sanitize: ${title} failed (${_rc})")
	endif()
endfunction()

run_step("configure ${BINARY_DIR}" ${_configure})
run_step("build" "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --parallel 2)
run_step("ctest -L unit|conformance|multiprocess"
	"${CTEST}" --test-dir "${BINARY_DIR}"
	-L "unit|conformance|multiprocess"
	--output-on-failure --no-tests=error -j2)
