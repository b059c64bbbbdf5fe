# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Removes the files that `cmake --install` listed in its manifest (the
# target "uninstall"):
#
#   cmake -DMANIFEST=build/uninstall_manifest.txt -P cmake/EvtchnxUninstall.cmake
#
# That manifest, written by the last install rule of CMakeLists.txt, holds
# the paths as written, DESTDIR included.  Besides the listed files this
# removes the bytecode Python wrote next to an installed .py
# (__pycache__/NAME.*.pyc) and, once empty, the folders that are ours
# (evtchnx/, evtchnx/xen-compat/, evtchnx/__pycache__/).  Other folders stay:
# they may be shared (lib/, dist-packages/, ...).
cmake_minimum_required(VERSION 3.25)

if(NOT MANIFEST)
	message(FATAL_ERROR "EvtchnxUninstall.cmake: MANIFEST is not set")
endif()
if(NOT EXISTS "${MANIFEST}")
	message(FATAL_ERROR "${MANIFEST} does not exist: nothing was installed from this "
		"build tree")
endif()

file(STRINGS "${MANIFEST}" _files)
set(_dirs)
set(_removed 0)
foreach(_f IN LISTS _files)
	if(_f STREQUAL "")
		continue()
	endif()
	if(EXISTS "${_f}" OR IS_SYMLINK "${_f}")
		if(IS_DIRECTORY "${_f}" AND NOT IS_SYMLINK "${_f}")
			message(WARNING "not removed, a folder: ${_f}")
			continue()
		endif()
		file(REMOVE "${_f}")
		math(EXPR _removed "${_removed} + 1")
		message(STATUS "Removed: ${_f}")
	else()
		message(STATUS "Not there: ${_f}")
	endif()
	get_filename_component(_dir "${_f}" DIRECTORY)
	get_filename_component(_name "${_f}" NAME_WE)
	if(_f MATCHES "\\.py$")
		file(GLOB _pyc "${_dir}/__pycache__/${_name}.*.pyc")
		if(_pyc)
			file(REMOVE ${_pyc})
			list(APPEND _dirs "${_dir}/__pycache__")
		endif()
	endif()
	list(APPEND _dirs "${_dir}")
endforeach()

# Emptied folders of our own (.../evtchnx, .../evtchnx/xen-compat,
# .../evtchnx/__pycache__), deepest first.
list(REMOVE_DUPLICATES _dirs)
list(SORT _dirs ORDER DESCENDING)
foreach(_d IN LISTS _dirs)
	while(IS_DIRECTORY "${_d}" AND _d MATCHES "/evtchnx(/xen-compat|/__pycache__)?$")
		file(GLOB _left LIST_DIRECTORIES true "${_d}/*" "${_d}/.*")
		if(_left)
			break()
		endif()
		file(REMOVE_RECURSE "${_d}")
		message(STATUS "Removed folder: ${_d}")
		get_filename_component(_d "${_d}" DIRECTORY)
	endwhile()
endforeach()
message(STATUS "Uninstalled ${_removed} file(s) listed in ${MANIFEST}")
