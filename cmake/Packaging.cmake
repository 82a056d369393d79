# Packaging: install() rules for what goes on a board, the static-libwebsockets option, and the
# CPack DEB configuration. `make deb` (scripts/make-deb.sh) drives it; docs/deploy.md explains the
# result. Included from the top-level CMakeLists.txt after the targets exist.
#
# Packages are built with -DCMAKE_INSTALL_PREFIX=/usr (make-deb.sh does): edgewatchd compiles the
# boards directory in from the prefix, and the unit names /usr/bin/edgewatchd. With another
# prefix `cmake --install` stays inside it (etc/, lib/systemd/system/ under the prefix), so a
# developer's install never writes to /etc.

# --- EDGEWATCH_STATIC_LWS: link Debian's libwebsockets.a instead of libwebsockets.so.17 --------
# For boards whose distribution ships another lws soname (Jetson / Ubuntu 22.04: lws 4.0,
# .so.16). libwebsockets.a comes from the same libwebsockets-dev package (host and sysroot); its
# own dependencies (OpenSSL, libcap, zlib) stay shared, so the package depends on them instead.
option(EDGEWATCH_STATIC_LWS "Link libwebsockets statically (for Ubuntu 22.04 / JetPack 6 boards)"
       OFF)
if(EDGEWATCH_STATIC_LWS)
  find_library(EDGEWATCH_LWS_STATIC_LIB NAMES libwebsockets.a REQUIRED)
  # libwebsockets.so.17's NEEDED entries (pkg-config --static lists only -lcap).
  find_library(EDGEWATCH_LWS_SSL_LIB ssl REQUIRED)
  find_library(EDGEWATCH_LWS_CRYPTO_LIB crypto REQUIRED)
  find_library(EDGEWATCH_LWS_CAP_LIB cap REQUIRED)
  find_library(EDGEWATCH_LWS_Z_LIB z REQUIRED)
  set_target_properties(PkgConfig::LWS PROPERTIES
    INTERFACE_LINK_LIBRARIES "${EDGEWATCH_LWS_STATIC_LIB};${EDGEWATCH_LWS_SSL_LIB};${EDGEWATCH_LWS_CRYPTO_LIB};${EDGEWATCH_LWS_CAP_LIB};${EDGEWATCH_LWS_Z_LIB};${CMAKE_DL_LIBS};Threads::Threads"
    INTERFACE_LINK_OPTIONS "")
  message(STATUS "libwebsockets: static (${EDGEWATCH_LWS_STATIC_LIB})")
endif()

# --- install layout ----------------------------------------------------------------------------
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(EDGEWATCH_SYSCONF_DIR /etc/edgewatch)
  set(EDGEWATCH_UNIT_DIR /lib/systemd/system)  # bookworm's systemd unit directory
else()
  set(EDGEWATCH_SYSCONF_DIR etc/edgewatch)
  set(EDGEWATCH_UNIT_DIR lib/systemd/system)
endif()
set(EDGEWATCH_DOC_DIR share/doc/edgewatch)

install(TARGETS edgewatchd edgewatch RUNTIME DESTINATION bin)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/config.json DESTINATION ${EDGEWATCH_SYSCONF_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/boards/ DESTINATION share/edgewatch/boards
        FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/deploy/edgewatch.service DESTINATION ${EDGEWATCH_UNIT_DIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/edgewatch-select-board DESTINATION lib/edgewatch)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/60-edgewatch-gpio.rules DESTINATION /lib/udev/rules.d)
else()
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/60-edgewatch-gpio.rules DESTINATION lib/udev/rules.d)
endif()

# Web assets: web/CMakeLists.txt installs the dashboard bundle (target edgewatch_web) into
# share/edgewatch/web, edgewatchd's default --web-root; make-deb.sh builds that target.

# Debian documentation: copyright, changelog.Debian.gz (gzip -9n: reproducible), the deploy guide.
set(_ew_changelog_gz ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/packaging)
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/deploy/changelog
                OUTPUT_FILE ${_ew_changelog_gz} RESULT_VARIABLE _ew_gzip_rc)
if(NOT _ew_gzip_rc EQUAL 0)
  message(FATAL_ERROR "gzip deploy/changelog failed")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/deploy/changelog)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/copyright ${_ew_changelog_gz}
              ${PROJECT_SOURCE_DIR}/docs/deploy.md
        DESTINATION ${EDGEWATCH_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/lintian-overrides
        DESTINATION share/lintian/overrides RENAME edgewatch)

# --- CPack: one .deb per build directory (amd64 from a host build, arm64 from the cross build) --
set(EDGEWATCH_DEB_RELEASE 1 CACHE STRING "Debian revision of the edgewatch package")
set(EDGEWATCH_DEB_MAINTAINER "edgewatch maintainers <maintainers@edgewatch.invalid>"
    CACHE STRING "Maintainer field of the edgewatch package")
# The newest deploy/changelog entry must describe this version.
file(STRINGS ${PROJECT_SOURCE_DIR}/deploy/changelog _ew_changelog_head LIMIT_COUNT 1)
if(NOT _ew_changelog_head MATCHES "^edgewatch \\(${PROJECT_VERSION}-${EDGEWATCH_DEB_RELEASE}\\)")
  message(WARNING "deploy/changelog does not start with edgewatch "
                  "(${PROJECT_VERSION}-${EDGEWATCH_DEB_RELEASE}): add an entry (lintian will complain)")
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_ew_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_ew_deb_arch amd64)
else()
  set(_ew_deb_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgewatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${EDGEWATCH_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${EDGEWATCH_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # edgewatch_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${_ew_deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "telemetry gateway from on-device CV pipelines to phones")
# The extended description; CPack indents it and turns empty lines into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "edgewatchd streams the detections, analytics, alerts and system health of a
computer-vision pipeline running on an edge board (Raspberry Pi 4/5, Jetson
Orin Nano) to phones and browsers over WebSocket, from one event loop.
Producers publish through a local Unix socket; clients authenticate with
tokens minted by the edgewatch command-line tool.

The package installs a hardened systemd service that runs as the edgewatch
user (in the gpio group) with the board chosen from the device tree.")
# Depends: computed from the binaries' NEEDED entries by dpkg-shlibdeps (scripts/deb-depends.sh,
# which make-deb.sh passes as -D CPACK_DEBIAN_PACKAGE_DEPENDS=...); the maintainer scripts add
# passwd (groupadd, useradd, usermod). Without make-deb.sh, the native build asks CPack's own
# dpkg-shlibdeps step instead.
if(NOT CMAKE_CROSSCOMPILING)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/packages)
# A cross build has no dpkg-shlibdeps step of CPack's own: refuse to package without the Depends
# make-deb.sh computes (a package depending on passwd alone would install and then fail to run).
set(_ew_cpack_check ${PROJECT_BINARY_DIR}/packaging/CPackProjectConfig.cmake)
file(WRITE ${_ew_cpack_check} "if(CPACK_GENERATOR STREQUAL \"DEB\" AND NOT CPACK_DEBIAN_PACKAGE_SHLIBDEPS
   AND CPACK_DEBIAN_PACKAGE_DEPENDS STREQUAL \"passwd\")
  message(FATAL_ERROR \"no library Depends: build the .deb with scripts/make-deb.sh (make deb)\")
endif()
")
set(CPACK_PROJECT_CONFIG_FILE ${_ew_cpack_check})
include(CPack)
