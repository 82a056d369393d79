find_package(GTest REQUIRED)
include(GoogleTest)

# edgewatch_test(NAME <name> SOURCES <files...> LIBS <libs...> LABEL unit|integration
#                [PREFIX <prefix>])
# One executable per test source, discovered by ctest and labelled so `ctest -L unit` is fast.
# PREFIX is prepended to every discovered test name (e.g. "auth." so `ctest -R auth` selects them).
function(edgewatch_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT;PREFIX" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  edgewatch_target_options(${T_NAME})
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       TEST_PREFIX "${T_PREFIX}"
                       PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "EDGEWATCH_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
                       ENVIRONMENT_MODIFICATION "EDGEWATCH_BINARY_DIR=set:${PROJECT_BINARY_DIR}")
endfunction()
