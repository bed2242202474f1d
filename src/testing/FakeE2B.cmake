# e2b::testing_fake: FakeE2B, an in-process E2B control plane and envd for
# users' unit tests (include/e2b/testing/fake_e2b.hpp). It serves HTTP with
# cpp-httplib, so it exists only where httplib is found, like the tests. It
# reuses the library's internal codecs by compiling against src/ privately.

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(E2B_FAKE_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()

if(E2B_FAKE_HTTPLIB_FOUND)
  add_library(e2b_testing_fake EXCLUDE_FROM_ALL
    ${PROJECT_SOURCE_DIR}/src/testing/fake_e2b.cpp
    ${PROJECT_SOURCE_DIR}/src/testing/fake_e2b_control_plane.cpp
    ${PROJECT_SOURCE_DIR}/src/testing/fake_e2b_envd.cpp
    ${PROJECT_SOURCE_DIR}/src/testing/fake_e2b_memfs.cpp)
  add_library(e2b::testing_fake ALIAS e2b_testing_fake)
  target_compile_features(e2b_testing_fake PUBLIC cxx_std_17)
  target_include_directories(e2b_testing_fake
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(e2b_testing_fake
    PUBLIC e2b::e2b
    PRIVATE PkgConfig::E2B_FAKE_HTTPLIB nlohmann_json::nlohmann_json
      Threads::Threads)
  set_target_properties(e2b_testing_fake PROPERTIES
    POSITION_INDEPENDENT_CODE ON)
  e2b_set_warnings(e2b_testing_fake)
endif()
