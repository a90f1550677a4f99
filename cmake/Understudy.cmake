# Helpers shared by the project's CMake files.

# understudy_component(NAME SOURCES... DEPS ...): one static library per component,
# linked PRIVATE along the allowed dependency arrows.
function(understudy_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(understudy_${name} STATIC ${ARG_SOURCES})
  target_include_directories(understudy_${name} PUBLIC ${PROJECT_SOURCE_DIR}/emulator)
  target_link_libraries(understudy_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
endfunction()

# understudy_unit_test(NAME [PREFIX p] SOURCES... DEPS ...): a GoogleTest binary seen by
# ctest; PREFIX is put before each test's name ("ec2." makes "ec2.VpcsTest.Paging").
function(understudy_unit_test name)
  cmake_parse_arguments(ARG "" "PREFIX" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/emulator ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_PREFIX}"
                       PROPERTIES LABELS unit)
endfunction()

# understudy_add_scenario(NAME FILE): registers `understudy run FILE` as the ctest test
# scenario.NAME (FILE relative to the calling directory). The test passes when every
# expectation of the scenario holds; it runs its own emulator on a free port, so
# scenarios run in parallel under `ctest -j`.
function(understudy_add_scenario name file)
  get_filename_component(path ${file} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME scenario.${name} COMMAND $<TARGET_FILE:understudy> run ${path})
  set_tests_properties(scenario.${name} PROPERTIES
    ENVIRONMENT "UNDERSTUDY_FIXTURE_APP=$<TARGET_FILE:understudy-fixture-app>"
    LABELS scenario TIMEOUT 300)
endfunction()
