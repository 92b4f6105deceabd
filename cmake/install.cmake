# What `cmake --install` puts where (GNUInstallDirs; DESTDIR works as usual):
#   bin/                      the daemons, the tools and nsq_bench (when built)
#   share/bash-completion/, share/zsh/   completion scripts for each of them
#   lib/, include/nsq/        the client library (below)
#   share/man/man1, man8      one page per binary (tools in section 1, daemons in 8)
#   <sysconfdir>/nsq/         the default YAML configs (/etc/nsq when configured with
#                             -DCMAKE_INSTALL_PREFIX=/usr, as GNUInstallDirs does)
#   share/doc/nsq-cpp/        README and the format and architecture notes
#   lib/systemd/system/       nsqd.service, nsqlookupd.service, nsqadmin.service (below); lib/sysusers.d/nsq.conf
# The list of binaries is kept here, in one place, so a new tool cannot be built but forgotten:
# tests/install/install_test.sh checks that every executable in the build tree is installed.
include(GNUInstallDirs)

set(NSQ_INSTALLED_PROGRAMS nsqd nsqlookupd nsqadmin to_nsq nsq_tail nsq_to_file nsq_stat nsq_to_nsq nsq_to_http)
if(TARGET nsq_bench)
  list(APPEND NSQ_INSTALLED_PROGRAMS nsq_bench)
endif()
install(TARGETS ${NSQ_INSTALLED_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

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
  install(FILES ${bash_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  install(FILES ${zsh_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
endforeach()
add_custom_target(completions ALL DEPENDS ${completion_files})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        FILES_MATCHING PATTERN "*.1")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        FILES_MATCHING PATTERN "*.8")

install(FILES ${PROJECT_SOURCE_DIR}/config/nsqd.yaml ${PROJECT_SOURCE_DIR}/config/nsqlookupd.yaml
              ${PROJECT_SOURCE_DIR}/config/nsqadmin.yaml
        DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/nsq)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")

# systemd units (Type=notify; see packaging/systemd/), with this install's paths filled in.
# They go to <prefix>/lib/systemd/system: /usr/lib/systemd/system for a package built with
# -DCMAKE_INSTALL_PREFIX=/usr. -DNSQ_INSTALL_SYSTEMD_UNITS=OFF leaves them out.
option(NSQ_INSTALL_SYSTEMD_UNITS "Install systemd units for nsqd, nsqlookupd and nsqadmin" ON)
if(NSQ_INSTALL_SYSTEMD_UNITS)
  foreach(unit nsqd nsqlookupd nsqadmin)
    configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/${unit}.service.in
                   ${PROJECT_BINARY_DIR}/packaging/${unit}.service @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/packaging/${unit}.service DESTINATION lib/systemd/system)
  endforeach()
  # The `nsq` user the units run as, created by systemd-sysusers.
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/nsq.sysusers DESTINATION lib/sysusers.d RENAME nsq.conf)
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
