# Fails when the option tables in DOC (between the options markers) differ from what
# `certretry-harness options --markdown` prints: the tables come from the option declarations.
#   cmake -DHARNESS=path/to/certretry-harness -DDOC=docs/harness.md -P check_options_doc.cmake
execute_process(COMMAND ${HARNESS} options --markdown RESULT_VARIABLE rc OUTPUT_VARIABLE fresh)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${HARNESS} options --markdown failed (${rc})")
endif()
file(READ ${DOC} doc)
set(begin "<!-- options:begin -->\n")
string(FIND "${doc}" "${begin}" b)
string(FIND "${doc}" "<!-- options:end -->" e)
if(b EQUAL -1 OR e EQUAL -1 OR e LESS b)
  message(FATAL_ERROR "${DOC} has no options markers")
endif()
string(LENGTH "${begin}" marker)
math(EXPR b "${b} + ${marker}")
math(EXPR len "${e} - ${b}")
string(SUBSTRING "${doc}" ${b} ${len} current)
if(NOT current STREQUAL fresh)
  message(FATAL_ERROR "${DOC} is out of date: paste the output of `certretry-harness options "
    "--markdown` between the options markers.\n--- the harness says ---\n${fresh}")
endif()
message(STATUS "the option tables of ${DOC} match the harness's declarations")
