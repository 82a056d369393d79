# Cross toolchain: aarch64 (Raspberry Pi OS bookworm / Debian arm64) with Debian's
# g++-aarch64-linux-gnu, against the private sysroot made by scripts/make-sysroot.sh.
#
#   scripts/make-sysroot.sh build/sysroot-arm64      (or: make sysroot)
#   cmake --preset aarch64 && cmake --build --preset aarch64 && ctest --preset aarch64
#
# Sysroot: -DEDGEWATCH_SYSROOT=... or env EDGEWATCH_SYSROOT, default build/sysroot-arm64.
# Tests run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), including gtest discovery.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# CMake re-reads this file for every try_compile project without the -D cache variables of the
# main project, so the resolved sysroot travels through the environment: every pass agrees.
if(EDGEWATCH_SYSROOT)
  set(_ew_sysroot "${EDGEWATCH_SYSROOT}")
elseif(NOT "$ENV{EDGEWATCH_SYSROOT}" STREQUAL "")
  set(_ew_sysroot "$ENV{EDGEWATCH_SYSROOT}")
else()
  set(_ew_sysroot "${CMAKE_CURRENT_LIST_DIR}/../build/sysroot-arm64")
endif()
get_filename_component(_ew_sysroot "${_ew_sysroot}" ABSOLUTE)
set(ENV{EDGEWATCH_SYSROOT} "${_ew_sysroot}")
if(NOT EXISTS "${_ew_sysroot}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "aarch64 sysroot not found at ${_ew_sysroot}: run `make sysroot` "
                      "(scripts/make-sysroot.sh) or set EDGEWATCH_SYSROOT")
endif()

set(CMAKE_SYSROOT "${_ew_sysroot}")
# /usr/aarch64-linux-gnu (the cross compiler's own libc/libstdc++) stays visible: hiding it made
# g++ silently link libstdc++ statically.
set(CMAKE_FIND_ROOT_PATH "${_ew_sysroot}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_ew_sysroot}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${_ew_sysroot}/usr/lib/aarch64-linux-gnu/pkgconfig:${_ew_sysroot}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Run aarch64 binaries (tests, gtest discovery) under qemu-user with the sysroot's loader and libs.
find_program(EDGEWATCH_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(EDGEWATCH_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${EDGEWATCH_QEMU_AARCH64};-L;${_ew_sysroot}")
endif()
