# nndl_check_test_list(<list file> <folder>...): fails the configuration when the tests
# registered in the folders differ from the names in the list file (one a line; '#'
# starts a comment). A test whose program or package is missing must still be
# registered, as a skipped test, so a missing name means a test dropped out silently;
# a name not in the list is a new test to write down there. The tests named in the global
# property nndl_unit_tests (one a unit test source found by its file) are expected too.
function(nndl_check_test_list list_file)
  file(STRINGS ${list_file} lines)
  get_property(expected GLOBAL PROPERTY nndl_unit_tests)
  foreach(line ${lines})
    string(REGEX REPLACE "#.*" "" line "${line}")
    string(STRIP "${line}" line)
    if(line)
      list(APPEND expected ${line})
    endif()
  endforeach()
  set(registered "")
  foreach(folder ${ARGN})
    get_property(names DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${folder} PROPERTY TESTS)
    list(APPEND registered ${names})
  endforeach()
  set(missing ${expected})
  list(REMOVE_ITEM missing ${registered})
  set(unlisted ${registered})
  list(REMOVE_ITEM unlisted ${expected})
  if(missing OR unlisted)
    string(REPLACE ";" " " missing "${missing}")
    string(REPLACE ";" " " unlisted "${unlisted}")
    message(FATAL_ERROR "nndl: the registered tests differ from ${list_file}:\n"
                        "  not registered (dropped out; register them as skipped where they cannot run): ${missing}\n"
                        "  not in the list (add them): ${unlisted}")
  endif()
  list(LENGTH registered count)
  message(STATUS "nndl: all ${count} tests of ${list_file} are registered")
endfunction()
