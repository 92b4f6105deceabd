# What `cmake --install` puts where (GNUInstallDirs; DESTDIR works as usual):
#   bin/                      the daemons, the tools and nsq_bench (when built)
#   share/bash-completion/, share/zsh/   completion scripts for each of them
#   lib/, include/nsq/        the client library (below)
#   share/man/man1, man8      one page per binary (tools in section 1, daemons in 8)
#   <sysconfdir>/nsq/         the default YAML configs, every file in config/ (/etc/nsq when
#                             configured with -DCMAKE_INSTALL_PREFIX=/usr, as GNUInstallDirs
#                             has it; otherwise etc/nsq under the prefix)
#   share/doc/nsq-cpp/        README and the format and architecture notes
#   lib/systemd/system/       nsqd.service, nsqlookupd.service, nsqadmin.service (below); lib/sysusers.d/nsq.conf
# The list of binaries is kept here, in one place, so a new tool cannot be built but forgotten:
# tests/install/install_test.sh checks that every executable in the build tree is installed.
# Everything else follows the list: man page, completion and, for a daemon, its systemd unit.
#
# Each rule names the install component that cmake/package.cmake turns into a Debian package:
# `server` (a program with a section-8 man page is a daemon, with the configs, units and
# docs), `tools` (section 1), `lib` (libnsq-client.so.N) and `dev` (the rest of the client
# library). -DNSQ_PACKAGING=ON (scripts/package) gzips the man pages as Debian wants.
include(GNUInstallDirs)
option(NSQ_PACKAGING "Install as the Debian packages want it (gzipped man pages, doc files per package)" OFF)

set(NSQ_INSTALLED_PROGRAMS nsqd nsqlookupd nsqadmin to_nsq nsq_tail nsq_to_file nsq_stat nsq_to_nsq nsq_to_http)
if(TARGET nsq_bench)
  list(APPEND NSQ_INSTALLED_PROGRAMS nsq_bench)
endif()
set(NSQ_DAEMONS)
foreach(program ${NSQ_INSTALLED_PROGRAMS})
  set(section 1)
  set(component tools)
  if(EXISTS ${PROJECT_SOURCE_DIR}/man/${program}.8)
    set(section 8)
    set(component server)
    list(APPEND NSQ_DAEMONS ${program})
  endif()
  set(NSQ_COMPONENT_${program} ${component})
  install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  set(page ${PROJECT_SOURCE_DIR}/man/${program}.${section})
  if(NSQ_PACKAGING)
    set(gz ${PROJECT_BINARY_DIR}/man/${program}.${section}.gz)
    file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/man)
    execute_process(COMMAND gzip -9 -n -c ${page} OUTPUT_FILE ${gz} COMMAND_ERROR_IS_FATAL ANY)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${page})
    set(page ${gz})
  endif()
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endforeach()

# Shell completion for every program in the list, printed at build time by the program itself
# (`<program> --completion bash|zsh`, from the option table behind its --help, so the two
# cannot drift): share/bash-completion/completions/<program> and
# share/zsh/vendor-completions/_<program>, where Debian's bash-completion and zsh look.
set(completion_files)
foreach(program ${NSQ_INSTALLED_PROGRAMS})
  set(bash_file ${PROJECT_BINARY_DIR}/completions/bash/${program})
  set(zsh_file ${PROJECT_BINARY_DIR}/completions/zsh/_${program})
  add_custom_command(OUTPUT ${bash_file} ${zsh_file}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/completions/bash ${PROJECT_BINARY_DIR}/completions/zsh
    COMMAND sh -c "$<TARGET_FILE:${program}> --completion bash > ${bash_file}"
    COMMAND sh -c "$<TARGET_FILE:${program}> --completion zsh > ${zsh_file}"
    DEPENDS ${program} VERBATIM)
  list(APPEND completion_files ${bash_file} ${zsh_file})
  install(FILES ${bash_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          COMPONENT ${NSQ_COMPONENT_${program}})
  install(FILES ${zsh_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
          COMPONENT ${NSQ_COMPONENT_${program}})
endforeach()
add_custom_target(completions ALL DEPENDS ${completion_files})

# The default configs: every file in config/ (the Debian package marks them conffiles).
# GNUInstallDirs gives /etc as the full sysconfdir of prefix /usr but keeps the relative "etc"
# (which would install to /usr/etc), so that case uses the full path.
file(GLOB NSQ_CONFIG_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/*.yaml)
set(NSQ_CONFIG_FULL_DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/nsq)
set(config_destination ${CMAKE_INSTALL_SYSCONFDIR}/nsq)
if(CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "/etc")
  set(config_destination /etc/nsq)
endif()
install(FILES ${NSQ_CONFIG_FILES} DESTINATION ${config_destination} COMPONENT server)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server
        FILES_MATCHING PATTERN "*.md" PATTERN "client.md" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/docs/client.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)

# systemd units (Type=notify; see packaging/systemd/), with this install's paths filled in: one
# for each program in the list that has packaging/systemd/<program>.service.in.
# They go to <prefix>/lib/systemd/system: /usr/lib/systemd/system for a package built with
# -DCMAKE_INSTALL_PREFIX=/usr. -DNSQ_INSTALL_SYSTEMD_UNITS=OFF leaves them out.
option(NSQ_INSTALL_SYSTEMD_UNITS "Install systemd units for the daemons" ON)
set(NSQ_SYSTEMD_UNITS)
if(NSQ_INSTALL_SYSTEMD_UNITS)
  foreach(unit ${NSQ_INSTALLED_PROGRAMS})
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/packaging/systemd/${unit}.service.in)
      continue()
    endif()
    configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/${unit}.service.in
                   ${PROJECT_BINARY_DIR}/packaging/${unit}.service @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/packaging/${unit}.service DESTINATION lib/systemd/system COMPONENT server)
    list(APPEND NSQ_SYSTEMD_UNITS ${unit}.service)
  endforeach()
  # The `nsq` user the units run as, created by systemd-sysusers.
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/nsq.sysusers DESTINATION lib/sysusers.d RENAME nsq.conf
          COMPONENT server)
endif()

# The C++ client library (lib/nsq/client/CMakeLists.txt builds it): libnsq-client.so and .a in
# <libdir>, its public headers under <includedir>/nsq/ (the client's and the few of the lower
# layers they include; tests/install/install_test.sh compiles each one alone from the installed
# tree), the CMake package (find_package(nsq CONFIG) -> nsq::client, nsq::client_static) and
# nsq-client.pc for pkg-config.
set(NSQ_CLIENT_HEADERS
  client.h
  client/connection.h
  client/consumer.h
  client/lookupd_client.h
  client/producer.h
  client/rdy.h
  base/host_port.h
  base/log.h
  net/tls.h
  protocol/error.h
  protocol/message.h
  protocol/wire.h)
foreach(header ${NSQ_CLIENT_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/lib/nsq/${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nsq/${dir}
          COMPONENT dev)
endforeach()
install(TARGETS nsq_client_shared EXPORT nsqTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
install(TARGETS nsq_client_static EXPORT nsqTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
set(NSQ_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nsq)
install(EXPORT nsqTargets NAMESPACE nsq:: DESTINATION ${NSQ_CMAKE_DIR} COMPONENT dev)
include(CMakePackageConfigHelpers)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nsqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/packaging/nsqConfig.cmake INSTALL_DESTINATION ${NSQ_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/nsqConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/packaging/nsqConfig.cmake ${PROJECT_BINARY_DIR}/packaging/nsqConfigVersion.cmake
        DESTINATION ${NSQ_CMAKE_DIR} COMPONENT dev)
# nsq-client.pc finds its prefix from its own place (${pcfiledir}), so it is right for any
# --prefix given to cmake --install, not only the configured one.
file(RELATIVE_PATH NSQ_PC_PREFIX_FROM_PCDIR /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" NSQ_PC_PREFIX_FROM_PCDIR "${NSQ_PC_PREFIX_FROM_PCDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/nsq-client.pc.in ${PROJECT_BINARY_DIR}/packaging/nsq-client.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/nsq-client.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)
