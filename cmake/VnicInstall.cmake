# Install rules shared by the libraries (docs/install.md): each library's CMakeLists.txt calls
# vnic_install_library() once, after its last target_include_directories/target_link_libraries.
include(GNUInstallDirs)

# vnic_install_library(<target> <export-name> [HEADERS <dir>] [EXPORT_SET <set>])
# Installs <target> (a static library) into the export set (default vnic-targets, which
# cmake/VnicPackage.cmake installs as vnic::<export-name>) and, with HEADERS, the public header
# tree <dir> (vnic/<layer>/...) under <prefix>/include. The target's own include directories
# are source or build paths: they stay the build tree's usage requirement only
# ($<BUILD_INTERFACE:...>), and an installed user gets <prefix>/include instead.
function(vnic_install_library target export_name)
  cmake_parse_arguments(A "" "HEADERS;EXPORT_SET" "" ${ARGN})
  if(NOT A_EXPORT_SET)
    set(A_EXPORT_SET vnic-targets)
  endif()
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(includes)
  if(dirs)
    set(includes INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    set(wrapped)
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^\\$<")
        list(APPEND wrapped "${dir}")
      else()
        list(APPEND wrapped "$<BUILD_INTERFACE:${dir}>")
      endif()
    endforeach()
    set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${wrapped}")
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  install(TARGETS ${target} EXPORT ${A_EXPORT_SET}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    ${includes})
  if(A_HEADERS)
    install(DIRECTORY ${A_HEADERS}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()
