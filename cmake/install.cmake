# What `cmake --install` puts where (GNUInstallDirs; DESTDIR works as usual):
#   bin/                      the daemons, the tools and nsq_bench (when built)
#   share/man/man1, man8      one page per binary (tools in section 1, daemons in 8)
#   <sysconfdir>/nsq/         the default YAML configs (/etc/nsq when configured with
#                             -DCMAKE_INSTALL_PREFIX=/usr, as GNUInstallDirs does)
#   share/doc/nsq-cpp/        README and the format and architecture notes
#   lib/systemd/system/       nsqd.service, nsqlookupd.service, nsqadmin.service (below); lib/sysusers.d/nsq.conf
# The list of binaries is kept here, in one place, so a new tool cannot be built but forgotten:
# tests/install/install_test.sh checks that every executable in the build tree is installed.
include(GNUInstallDirs)

set(NSQ_INSTALLED_PROGRAMS nsqd nsqlookupd nsqadmin to_nsq nsq_tail nsq_to_file nsq_stat nsq_to_nsq)
if(TARGET nsq_bench)
  list(APPEND NSQ_INSTALLED_PROGRAMS nsq_bench)
endif()
install(TARGETS ${NSQ_INSTALLED_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

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
