# What `cmake --install` adds beyond each library's own rules (docs/install.md): the CMake package
# (find_package(vnic): vnic::model, vnic::hw, vnic::driver, vnic::stack, vnic::stack_wire,
# vnic::rtl when built, and the `tb` component's vnic::tb), its version file, vnic.pc, the docs
# and the embedding example; CPack's .deb; and the ctest that builds examples/embed against an
# installed prefix.
include(CMakePackageConfigHelpers)

set(VNIC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/vnic)
install(EXPORT vnic-targets NAMESPACE vnic:: DESTINATION ${VNIC_INSTALL_CMAKEDIR})
set(VNIC_HAVE_TB OFF)
if(TARGET vnic_tb)
  set(VNIC_HAVE_TB ON)
  install(EXPORT vnic-tb-targets NAMESPACE vnic:: DESTINATION ${VNIC_INSTALL_CMAKEDIR})
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vnic-config.cmake.in
  ${PROJECT_BINARY_DIR}/vnic-config.cmake INSTALL_DESTINATION ${VNIC_INSTALL_CMAKEDIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vnic-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vnic-config.cmake ${PROJECT_BINARY_DIR}/vnic-config-version.cmake
  DESTINATION ${VNIC_INSTALL_CMAKEDIR})

# vnic.pc: the libraries of the vnic-targets export set, users before what they use (static
# libraries), found by following their link dependencies.
function(vnic_pc_visit target)
  get_property(seen GLOBAL PROPERTY _vnic_pc_seen_${target})
  if(seen)
    return()
  endif()
  set_property(GLOBAL PROPERTY _vnic_pc_seen_${target} ON)
  get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
  foreach(dep IN LISTS deps)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
    if(TARGET ${dep})
      get_target_property(kind ${dep} TYPE)
      if(kind STREQUAL "STATIC_LIBRARY" AND dep MATCHES "^vnic_")
        vnic_pc_visit(${dep})
      endif()
    elseif(dep MATCHES "^-")  # a raw flag (Verilator's -pthread, -latomic)
      set_property(GLOBAL APPEND PROPERTY _vnic_pc_flags ${dep})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY _vnic_pc_order ${target})
endfunction()
foreach(target vnic_driver vnic_stack vnic_stack_wire vnic_hw vnic_rtl vnic_model)
  if(TARGET ${target})
    vnic_pc_visit(${target})
  endif()
endforeach()
get_property(vnic_pc_order GLOBAL PROPERTY _vnic_pc_order)
get_property(vnic_pc_flags GLOBAL PROPERTY _vnic_pc_flags)
list(REVERSE vnic_pc_order)
list(TRANSFORM vnic_pc_order PREPEND "-l")
list(REMOVE_DUPLICATES vnic_pc_flags)
string(JOIN " " VNIC_PC_LIBS ${vnic_pc_order} ${vnic_pc_flags})
# Relocatable: the prefix is found from the .pc file's own place (pkg-config's ${pcfiledir}).
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(VNIC_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(VNIC_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
file(RELATIVE_PATH VNIC_PC_TO_PREFIX /_prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /_prefix)
string(REGEX REPLACE "/$" "" VNIC_PC_TO_PREFIX "${VNIC_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/vnic.pc.in ${PROJECT_BINARY_DIR}/vnic.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vnic.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/install.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/embed DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The .deb: `cpack -G DEB` in the build directory after a build (docs/install.md). One package,
# vnic: the tool, the static libraries, headers, the CMake package and vnic.pc, under /usr.
set(VNIC_PACKAGE_MAINTAINER "vnic maintainers <vnic@invalid>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_PACKAGE_NAME vnic)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "virtual NIC for QEMU-style emulation and SystemC co-simulation")
set(CPACK_PACKAGE_DESCRIPTION
  "A cycle-approximate SystemC/TLM-2.0 network interface card, a Linux-style driver model and a \
Linux network stack model, as static libraries with headers, a CMake package (find_package(vnic)) \
and vnic.pc, and the vnic command-line tool.")
set(CPACK_PACKAGE_CONTACT "${VNIC_PACKAGE_MAINTAINER}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the tool; static libraries keep their symbols
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION electronics)
# Depends: the shared libraries the tool links (libsystemc, libisal2, libfmt9, libpcap0.8,
# libtomlplusplus3, zlib1g, libstdc++6, ...), as dpkg-shlibdeps (dpkg-dev) finds them. Building
# against the static libraries needs the -dev packages of their dependencies: Recommends.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libsystemc-dev, libfmt-dev, libisal-dev, zlib1g-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, libpcap-dev, libtomlplusplus-dev, nlohmann-json3-dev")
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/")
include(CPack)

# ctest -L install: install this build tree (nothing is rebuilt) to a fresh prefix, then build and
# run examples/embed against it with find_package(vnic), and check vnic.pc and the installed tool.
if(BUILD_TESTING)
  add_test(NAME install.embed_example
    COMMAND ${CMAKE_COMMAND}
      -DVNIC_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DVNIC_BINARY_DIR=${PROJECT_BINARY_DIR}
      -DWORK_DIR=${PROJECT_BINARY_DIR}/install-test -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
      -DGENERATOR=${CMAKE_GENERATOR} -DBUILD_TYPE=${CMAKE_BUILD_TYPE} -DCXX=${CMAKE_CXX_COMPILER}
      "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}" "-DLINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}"
      -DWITH_TOOL=$<TARGET_EXISTS:vnic>
      -P ${CMAKE_CURRENT_LIST_DIR}/VnicInstallTest.cmake)
  set_tests_properties(install.embed_example PROPERTIES LABELS install TIMEOUT 600
    ENVIRONMENT "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1")
endif()
