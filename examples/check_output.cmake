# Runs EXE and compares its standard output with the file EXPECTED.
execute_process(COMMAND ${EXE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with ${rc}\n${err}")
endif()
file(READ ${EXPECTED} want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "output of ${EXE} differs from ${EXPECTED}\n--- got ---\n${out}--- want ---\n${want}")
endif()
