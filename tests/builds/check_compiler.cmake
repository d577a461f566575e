# With one more compiler (clang++-14): every public header under strict warnings, and the
# machines built with -fno-exceptions -fno-rtti, linked and run.
#   cmake -DCXX=clang++-14 -DSOURCE_DIR=... -DHEADERS=.../all_headers.cpp -DWORK_DIR=...
#         -DWARNINGS="-Wall;..." -P check_compiler.cmake
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed:\n${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok ${out}")
endfunction()

file(MAKE_DIRECTORY ${WORK_DIR})
# Third-party headers (Boost, simdjson, OpenSSL, libcurl) are in /usr/include: system headers.
run("strict headers" ${CXX} -std=c++20 -fsyntax-only ${WARNINGS} -I${SOURCE_DIR}/include
  ${HEADERS})
run("-fno-exceptions -fno-rtti build" ${CXX} -std=c++20 -O1 -fno-exceptions -fno-rtti
  ${WARNINGS} -I${SOURCE_DIR}/include ${SOURCE_DIR}/tests/builds/no_exceptions.cpp
  -o ${WORK_DIR}/no_exceptions -lsimdjson -lcrypto)
run("-fno-exceptions -fno-rtti run" ${WORK_DIR}/no_exceptions)
