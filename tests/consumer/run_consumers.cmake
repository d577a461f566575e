# Installs certretry into a temporary prefix, then builds and runs the consumer projects: the
# whole library through find_package(certretry) and add_subdirectory(certretry), the core
# component alone the same two ways with simdjson and OpenSSL disabled, and both consumers
# compiled with the installed pkg-config files (certretry, certretry-core).
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

foreach(kind core_find_package core_add_subdirectory)
  set(bin ${WORK_DIR}/${kind})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/${kind} -B ${bin} -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCERTRETRY_SOURCE_DIR=${SOURCE_DIR}
    -DCMAKE_DISABLE_FIND_PACKAGE_simdjson=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
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
run(${CXX} -std=c++20 ${SOURCE_DIR}/tests/consumer/consumer_main.cpp ${flags} -o ${WORK_DIR}/pkgconfig_consumer)
run(${WORK_DIR}/pkgconfig_consumer)

# The core's pkg-config file names no simdjson and no libcrypto; a C++23 build is not forced back.
# (C++23 as c++2b: the spelling clang 14 knows; g++ 11 and later take both.)
execute_process(COMMAND pkg-config --cflags --libs certretry-core OUTPUT_VARIABLE core_flags
  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR core_flags MATCHES "simdjson|crypto|-std=")
  message(FATAL_ERROR "pkg-config certretry-core: '${core_flags}' (rc ${rc})")
endif()
separate_arguments(core_flags UNIX_COMMAND "${core_flags}")
run(${CXX} -std=c++2b ${SOURCE_DIR}/tests/consumer/core_consumer_main.cpp ${core_flags} -o ${WORK_DIR}/pkgconfig_core_consumer)
run(${WORK_DIR}/pkgconfig_core_consumer)

# The libcurl transport (certretry::curl), when libcurl was found: its pkg-config file names
# libcurl and nothing of simdjson or OpenSSL's libcrypto, and a consumer builds and starts with it.
if(EXISTS ${prefix}/share/pkgconfig/certretry-curl.pc)
  execute_process(COMMAND pkg-config --cflags --libs certretry-curl OUTPUT_VARIABLE curl_flags
    RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR NOT curl_flags MATCHES "-lcurl" OR curl_flags MATCHES "simdjson|crypto")
    message(FATAL_ERROR "pkg-config certretry-curl: '${curl_flags}' (rc ${rc})")
  endif()
  separate_arguments(curl_flags UNIX_COMMAND "${curl_flags}")
  run(${CXX} -std=c++20 ${SOURCE_DIR}/tests/consumer/curl_consumer_main.cpp ${curl_flags} -o ${WORK_DIR}/pkgconfig_curl_consumer)
  run(${WORK_DIR}/pkgconfig_curl_consumer)
endif()
