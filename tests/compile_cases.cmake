# Compiles every compile-time case (tests/compile_fail.cpp, tests/compile_types.cpp) with
# -fsyntax-only (the checks are all the front end's: deleted overloads, static_assert),
# one after another, and fails naming each case that went wrong:
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
set(failed "")
set(count 0)
foreach(entry ${cases})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 file)
  list(GET parts 2 defines)
  list(GET parts 3 expectation)
  string(REPLACE "," ";" defines "${defines}")
  set(define_flags "")
  foreach(d ${defines})
    list(APPEND define_flags -D${d})
  endforeach()
  execute_process(COMMAND ${CXX} ${flags} ${define_flags} ${SOURCE_DIR}/tests/${file}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
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
if(failed)
  message(FATAL_ERROR "compile cases that went wrong: ${failed}")
endif()
message(STATUS "all ${count} compile cases as expected")
