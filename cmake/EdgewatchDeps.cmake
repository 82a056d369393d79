# Third-party dependencies, all from Debian packages, found through pkg-config so the same
# lookups retarget cleanly to an aarch64 sysroot (see toolchains/aarch64-linux-gnu.cmake).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
if(EDGEWATCH_WITH_GPIOD)
  pkg_check_modules(GPIOD REQUIRED IMPORTED_TARGET libgpiod)
endif()

# Debian's mbedTLS 2.28 ships no pkg-config file: find the three libraries directly.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/md.h REQUIRED)
find_library(MBEDTLS_LIB mbedtls REQUIRED)
find_library(MBEDX509_LIB mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
add_library(edgewatch_mbedtls INTERFACE)
target_include_directories(edgewatch_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(edgewatch_mbedtls INTERFACE ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB})
add_library(edgewatch::mbedtls ALIAS edgewatch_mbedtls)

# libsystemd: sd_notify READY/WATCHDOG for the HAL's Watchdog (hal/linux/watchdog.cc).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
