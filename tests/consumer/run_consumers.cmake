# Installs certretry into a temporary prefix, then builds and runs two consumer projects: one
# with find_package(certretry), one with add_subdirectory(certretry); and compiles the consumer
# with the installed pkg-config file.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -P run_consumers.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(kind find_package add_subdirectory)
  set(bin ${WORK_DIR}/${kind})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/${kind} -B ${bin} -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCERTRETRY_SOURCE_DIR=${SOURCE_DIR})
  run(${CMAKE_COMMAND} --build ${bin})
  run(${bin}/consumer)
endforeach()

set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs certretry OUTPUT_VARIABLE flags
  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know certretry")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/tests/consumer/consumer_main.cpp ${flags} -o ${WORK_DIR}/pkgconfig_consumer)
run(${WORK_DIR}/pkgconfig_consumer)
