# Fails unless `certretry-harness tune SPEC --svg OUT` exits 0 (every figure confirmed by the
# simulation), every markdown table row it prints appears in DOC, and OUT is byte for byte the
# SVG committed as SVG (when given): docs/tuning.md's tables and plots are the harness's output.
#   cmake -DHARNESS=... -DSPEC=docs/figures/tuning/x.json -DDOC=docs/tuning.md
#         [-DSVG=docs/figures/tuning/x.svg] -DOUT=build/x.svg -P check_tuning.cmake
execute_process(COMMAND ${HARNESS} tune ${SPEC} --svg ${OUT} RESULT_VARIABLE rc
  OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "certretry-harness tune ${SPEC} failed (${rc}):\n${err}\n${out}")
endif()
file(READ ${DOC} doc)
string(REPLACE "\n" ";" lines "${out}")
set(rows 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^\\|")
    math(EXPR rows "${rows} + 1")
    string(FIND "${doc}" "${line}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${DOC} is out of date: this row of `certretry-harness tune ${SPEC}` "
        "is not in it:\n${line}")
    endif()
  endif()
endforeach()
if(rows EQUAL 0)
  message(FATAL_ERROR "certretry-harness tune ${SPEC} printed no table")
endif()
if(SVG)
  file(READ ${OUT} fresh)
  file(READ ${SVG} committed)
  if(NOT fresh STREQUAL committed)
    message(FATAL_ERROR "${SVG} is out of date: run certretry-harness tune ${SPEC} --svg ${SVG}")
  endif()
endif()
message(STATUS "${rows} table rows of ${DOC} match `certretry-harness tune ${SPEC}`")
