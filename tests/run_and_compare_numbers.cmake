# Runs a program and compares its standard output with a file, numbers to a tolerance
# (tests/compare_numbers.cpp).
#   -DCOMMAND="prog@@arg@@..." -DEXPECTED=<file> -DCOMPARER=<compare_numbers> -DTOLERANCE=<t> -DOUTPUT=<file>
string(REPLACE "@@" ";" COMMAND "${COMMAND}")
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_FILE "${OUTPUT}" ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit code ${rc}\n${err}")
endif()
execute_process(COMMAND "${COMPARER}" "${OUTPUT}" "${EXPECTED}" "${TOLERANCE}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the output differs from ${EXPECTED}")
endif()
