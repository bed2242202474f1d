# Read by ctest after the discovered integration tests (TEST_INCLUDE_FILES):
# the load tests keep the "integration" label and add "load", so
# `ctest -L load` runs only them, with a bound that suits their size.
set_tests_properties(LoadTest.FiftySandboxesTimesTenStreamsLoseNoByte
  PROPERTIES LABELS "integration;load" TIMEOUT 300)
