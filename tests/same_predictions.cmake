# Runs predict with two model files on the bundled photos and requires the same output.
# -DCOMMANDS=PREDICT%%MODEL_A%%MODEL_B ; prints "same predictions" when they agree.
string(REPLACE "%%" ";" parts "${COMMANDS}")
list(GET parts 0 predict)
list(GET parts 1 model_a)
list(GET parts 2 model_b)
foreach(model a b)
  execute_process(COMMAND ${predict} --model ${model_${model}} data/images/chelsea.png data/images/coffee.png
                  OUTPUT_VARIABLE out_${model} ERROR_VARIABLE err_${model} RESULT_VARIABLE rc_${model})
  if(NOT rc_${model} EQUAL 0)
    message(FATAL_ERROR "predict --model ${model_${model}} failed (${rc_${model}}): ${err_${model}}")
  endif()
endforeach()
if(NOT out_a STREQUAL out_b)
  message(FATAL_ERROR "different predictions:\n${model_a}:\n${out_a}\n${model_b}:\n${out_b}")
endif()
message("same predictions:\n${out_a}")
