include(CMakePackageConfigHelpers)

install(TARGETS e2b EXPORT e2bTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# include/e2b/testing/ belongs to e2b::testing, installed below when built.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/e2b
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN testing EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/generated/include/e2b/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/e2b)

set(E2B_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/e2b)
install(EXPORT e2bTargets NAMESPACE e2b:: DESTINATION ${E2B_CMAKE_DIR})
export(EXPORT e2bTargets NAMESPACE e2b::
  FILE ${PROJECT_BINARY_DIR}/e2bTargets.cmake)

# e2b::testing in an export set of its own, loaded by e2bConfig.cmake only
# for `COMPONENTS testing`, so consumers without GoogleTest never see it.
if(TARGET e2b_testing AND E2B_BUILD_TESTING_LIB)
  install(TARGETS e2b_testing EXPORT e2bTestingTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/e2b/testing
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/e2b)
  install(EXPORT e2bTestingTargets NAMESPACE e2b::
    DESTINATION ${E2B_CMAKE_DIR})
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/e2bConfig.cmake.in
  ${PROJECT_BINARY_DIR}/e2bConfig.cmake INSTALL_DESTINATION ${E2B_CMAKE_DIR})
# 0.x: minor versions may break the API; from 1.0 only major ones
# (docs/releasing.md), the same rule as the SONAME (src/CMakeLists.txt).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_e2b_compatibility SameMinorVersion)
else()
  set(_e2b_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/e2bConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${_e2b_compatibility})
install(FILES ${PROJECT_BINARY_DIR}/e2bConfig.cmake
  ${PROJECT_BINARY_DIR}/e2bConfigVersion.cmake DESTINATION ${E2B_CMAKE_DIR})

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(E2B_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(E2B_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(E2B_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(E2B_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# A static archive cannot carry its dependencies: its users link libcurl
# themselves, so it is a plain requirement then, a private one otherwise.
if(BUILD_SHARED_LIBS)
  set(E2B_PC_CURL_FIELD "Requires.private")
else()
  set(E2B_PC_CURL_FIELD "Requires")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/e2b.pc.in
  ${PROJECT_BINARY_DIR}/e2b.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/e2b.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(TARGET e2b-reap)
  install(TARGETS e2b-reap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

if(TARGET e2b-local)
  install(TARGETS e2b-local RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(TARGETS e2b-sandbox-init RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR})
endif()
