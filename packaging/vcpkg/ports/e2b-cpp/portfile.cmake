# vcpkg overlay port of e2b-cpp, built from the checkout it lives in:
#
#   vcpkg install e2b-cpp --overlay-ports=<e2b-cpp>/packaging/vcpkg/ports
#
# (or list the directory under "overlay-ports" in a vcpkg-configuration.json).
# The sources are this repository's, four levels up, so the port needs no
# release tag; vcpkg's binary cache does not hash them, so pass
# --no-binarycaching after changing them. For a registry, replace the
# SOURCE_PATH line with vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH
# REPO e2b-cpp/e2b-cpp REF "v${VERSION}" SHA512 <archive hash> HEAD_REF main)
# (docs/releasing.md).
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/packaging/cmake-options.txt")
    message(FATAL_ERROR "e2b-cpp's overlay port must stay in packaging/vcpkg/ports/e2b-cpp of an e2b-cpp checkout")
endif()

# The options every recipe builds with, kept in one file of the source tree
# (packaging/cmake-options.txt); vcpkg sets BUILD_SHARED_LIBS from the
# triplet's VCPKG_LIBRARY_LINKAGE itself.
file(STRINGS "${SOURCE_PATH}/packaging/cmake-options.txt" E2B_OPTIONS REGEX "^-D")

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS ${E2B_OPTIONS}
)
vcpkg_cmake_install()

# The CMake package is find_package(e2b), installed to lib/cmake/e2b; vcpkg
# wants it in share/e2b with the debug configuration merged in.
vcpkg_cmake_config_fixup(PACKAGE_NAME e2b CONFIG_PATH lib/cmake/e2b)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug/include"
    "${CURRENT_PACKAGES_DIR}/debug/share"
)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
