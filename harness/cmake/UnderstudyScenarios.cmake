# understudy_add_scenario(NAME FILE): registers `understudy run FILE` as the ctest test
# scenario.NAME (FILE relative to the calling directory). It passes when every
# expectation of the scenario holds; each run has its own emulator on a free port, so
# scenarios run in parallel under `ctest -j`.
function(understudy_add_scenario name file)
  get_filename_component(path ${file} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME scenario.${name} COMMAND understudy::understudy run ${path})
  set_tests_properties(scenario.${name} PROPERTIES
    ENVIRONMENT "UNDERSTUDY_FIXTURE_APP=$<TARGET_FILE:understudy::fixture-app>"
    LABELS scenario TIMEOUT 300
    # Tests of the same file never run at once: its apps may keep state outside the
    # emulator (a database file, say).
    RESOURCE_LOCK "${path}")
endfunction()
