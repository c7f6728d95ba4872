# Compiles every compile-time case (tests/compile_fail.cpp, tests/compile_types.cpp) with
# -fsyntax-only (the checks are all the front end's: deleted overloads, static_assert),
# two at a time, and fails naming each case that went wrong:
#   a "pass" case must compile; a "fail" case must not, and the compiler's output must
#   match its pattern (a deleted overload named, or nndl's own static_assert message).
#   cmake -DCXX=<compiler> -DSOURCE_DIR=<nndl source> -DINCLUDES=<dir@@dir...> -P compile_cases.cmake
string(REPLACE "@@" ";" includes "${INCLUDES}")
set(flags -std=c++17 -fsyntax-only -I${SOURCE_DIR}/include)
foreach(dir ${includes})
  list(APPEND flags -isystem ${dir})
endforeach()
set(deleted "use of deleted function|call to deleted")
set(one_scalar "must have one scalar type")
# name | file | defines | expectation (pass, or the pattern of a failure)
set(cases
  "layer_forward_lvalue|compile_fail.cpp|NNDL_CASE_LAYER_FORWARD,NNDL_PASS_lvalue|pass"
  "layer_forward_rvalue|compile_fail.cpp|NNDL_CASE_LAYER_FORWARD,NNDL_PASS_rvalue|${deleted}"
  "network_forward_lvalue|compile_fail.cpp|NNDL_CASE_NETWORK_FORWARD,NNDL_PASS_lvalue|pass"
  "network_forward_rvalue|compile_fail.cpp|NNDL_CASE_NETWORK_FORWARD,NNDL_PASS_rvalue|${deleted}"
  "train_step_lvalue|compile_fail.cpp|NNDL_CASE_TRAIN_STEP,NNDL_PASS_lvalue|pass"
  "train_step_rvalue|compile_fail.cpp|NNDL_CASE_TRAIN_STEP,NNDL_PASS_rvalue|${deleted}"
  "const_temporary_lvalue|compile_fail.cpp|NNDL_CASE_CONST_TEMPORARY,NNDL_PASS_lvalue|pass"
  "const_temporary_rvalue|compile_fail.cpp|NNDL_CASE_CONST_TEMPORARY,NNDL_PASS_rvalue|${deleted}"
  "types_friendly|compile_types.cpp|NNDL_CASE_friendly|pass"
  "types_mix_predict|compile_types.cpp|NNDL_CASE_mix_predict|${one_scalar}"
  "types_mix_train|compile_types.cpp|NNDL_CASE_mix_train|${one_scalar}"
  "types_mix_optimizer|compile_types.cpp|NNDL_CASE_mix_optimizer|${one_scalar}")
# The cases run two at a time (one execute_process with two commands runs them at once),
# each writing the compiler's output to a file of its own.
set(work ${CMAKE_CURRENT_BINARY_DIR}/compile_cases)
file(MAKE_DIRECTORY ${work})
set(failed "")
set(count 0)
list(LENGTH cases case_count)
set(first 0)
while(first LESS case_count)
  set(batch "")
  foreach(offset 0 1)
    math(EXPR index "${first} + ${offset}")
    if(index LESS case_count)
      list(GET cases ${index} entry)
      list(APPEND batch "${entry}")
    endif()
  endforeach()
  set(commands "")
  foreach(entry ${batch})
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 name)
    list(GET parts 1 file)
    list(GET parts 2 defines)
    string(REPLACE "," ";" defines "${defines}")
    set(line "")
    foreach(word ${CXX} ${flags})
      string(APPEND line "'${word}' ")
    endforeach()
    foreach(d ${defines})
      string(APPEND line "-D${d} ")
    endforeach()
    string(APPEND line "'${SOURCE_DIR}/tests/${file}' >'${work}/${name}.txt' 2>&1")
    list(APPEND commands COMMAND sh -c "${line}")
  endforeach()
  execute_process(${commands} RESULTS_VARIABLE results)
  set(position 0)
  foreach(entry ${batch})
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 name)
    list(GET parts 3 expectation)
    list(GET results ${position} rc)
    math(EXPR position "${position} + 1")
    file(READ ${work}/${name}.txt out)
    math(EXPR count "${count} + 1")
    if(expectation STREQUAL "pass")
      if(rc EQUAL 0)
        message(STATUS "${name}: compiles, as it must")
      else()
        message(STATUS "${name}: FAILED, it must compile:\n${out}")
        list(APPEND failed ${name})
      endif()
    elseif(rc EQUAL 0)
      message(STATUS "${name}: FAILED, it compiled but must not")
      list(APPEND failed ${name})
    elseif(out MATCHES "${expectation}")
      message(STATUS "${name}: refused, naming '${CMAKE_MATCH_0}'")
    else()
      message(STATUS "${name}: FAILED, refused without '${expectation}':\n${out}")
      list(APPEND failed ${name})
    endif()
  endforeach()
  math(EXPR first "${first} + 2")
endwhile()
if(failed)
  message(FATAL_ERROR "compile cases that went wrong: ${failed}")
endif()
if(NOT count EQUAL case_count)
  message(FATAL_ERROR "ran ${count} of ${case_count} compile cases")
endif()
message(STATUS "all ${count} compile cases as expected")
