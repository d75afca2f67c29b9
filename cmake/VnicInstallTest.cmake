# ctest install.embed_example (cmake -P; cmake/VnicPackage.cmake passes the variables): installs
# the build tree VNIC_BINARY_DIR with `cmake --install` to a fresh prefix under WORK_DIR (the
# libraries as built: nothing is recompiled), configures and builds examples/embed against that
# prefix alone with find_package(vnic), runs it, and checks vnic.pc and the installed vnic tool.
foreach(var VNIC_SOURCE_DIR VNIC_BINARY_DIR WORK_DIR LIBDIR GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "VnicInstallTest.cmake: ${var} is not set")
  endif()
endforeach()

function(vnic_run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(example ${WORK_DIR}/embed)
file(REMOVE_RECURSE ${WORK_DIR})

vnic_run("install" ${CMAKE_COMMAND} --install ${VNIC_BINARY_DIR} --prefix ${prefix})

# Nothing installed may point back into the source or build tree.
file(GLOB_RECURSE meta ${prefix}/${LIBDIR}/cmake/vnic/*.cmake ${prefix}/${LIBDIR}/pkgconfig/*.pc)
foreach(f IN LISTS meta)
  file(READ ${f} text)
  string(REPLACE "${prefix}" "" text "${text}")
  foreach(tree ${VNIC_SOURCE_DIR} ${VNIC_BINARY_DIR})
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names ${tree}")
    endif()
  endforeach()
endforeach()

# The example, against the prefix only (the package registry and system paths are not asked).
vnic_run("configure examples/embed" ${CMAKE_COMMAND} -S ${VNIC_SOURCE_DIR}/examples/embed -B ${example}
  -G ${GENERATOR} -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} -Werror" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
file(STRINGS ${example}/CMakeCache.txt vnic_dir REGEX "^vnic_DIR:")
if(NOT vnic_dir STREQUAL "vnic_DIR:PATH=${prefix}/${LIBDIR}/cmake/vnic")
  message(FATAL_ERROR "the example found another vnic: ${vnic_dir}")
endif()
vnic_run("build examples/embed" ${CMAKE_COMMAND} --build ${example})
vnic_run("run examples/embed" ${example}/vnic_embed)
message(STATUS "${run_out}")
if(NOT run_out MATCHES "looped back intact within [0-9.]+ [munp]?s: PASS")
  message(FATAL_ERROR "unexpected output of vnic_embed:\n${run_out}")
endif()

# vnic.pc: found in the prefix, relocated to it, naming the libraries and SystemC's define.
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(PKG_CONFIG_EXECUTABLE)
  vnic_run("pkg-config vnic" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig
    ${PKG_CONFIG_EXECUTABLE} --cflags --libs vnic)
  foreach(want "-DSC_CPLUSPLUS=201703L" "-lvnic_hw" "-lvnic_driver" "-lvnic_model" "-lsystemc" "-lfmt")
    string(FIND "${run_out}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "pkg-config --cflags --libs vnic lacks ${want}: ${run_out}")
    endif()
  endforeach()
  if(NOT run_out MATCHES "-I([^ ]*prefix[^ ]*)")
    message(FATAL_ERROR "pkg-config --cflags vnic: no include directory in the prefix: ${run_out}")
  endif()
  if(NOT EXISTS "${CMAKE_MATCH_1}/vnic/hw/nic.hpp")
    message(FATAL_ERROR "pkg-config --cflags vnic: ${CMAKE_MATCH_1} has no vnic/hw/nic.hpp")
  endif()
endif()

if(WITH_TOOL)
  vnic_run("installed vnic list" ${prefix}/bin/vnic list)
endif()
