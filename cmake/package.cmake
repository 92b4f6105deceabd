# Debian packages with CPack (`cpack -G DEB`, run by scripts/package; docs/packaging.md), one
# per install component of cmake/install.cmake:
#   nsq-cpp-server       (server)  the daemons, their systemd units, sysusers.d file, /etc/nsq
#                                  configs (conffiles), man pages; postinst makes the `nsq` user
#                                  and /var/lib/nsq
#   nsq-cpp-tools        (tools)   to_nsq, nsq_tail, nsq_to_file, nsq_stat, nsq_to_nsq, nsq_bench
#   libnsq-client<N>     (lib)     the client library's shared object (N = its SONAME version)
#   libnsq-client-dev    (dev)     headers, libnsq-client.a, the .so link, CMake and pkg-config
# Runtime dependencies come from dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS), so they name
# the Debian library packages the binaries really link. The packages want the layout that
# -DNSQ_PACKAGING=ON gives (prefix /usr, configs in /etc, gzipped man pages, a copyright file
# and changelog per package); scripts/package configures it so.
set(NSQ_PACKAGE_MAINTAINER "nsq-cpp maintainers <maintainers@nsq-cpp.example>"
    CACHE STRING "Maintainer field of the Debian packages")
set(NSQ_SOURCE_PACKAGE nsq-cpp)
set(NSQ_SERVER_PACKAGE nsq-cpp-server)
set(NSQ_TOOLS_PACKAGE nsq-cpp-tools)
set(NSQ_LIB_PACKAGE libnsq-client${NSQ_CLIENT_SOVERSION})
set(NSQ_DEV_PACKAGE libnsq-client-dev)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${NSQ_SOURCE_PACKAGE})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${NSQ_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "NSQ realtime distributed messaging platform (C++)")
set(CPACK_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# Absolute destinations (/etc/nsq) land in the staging tree, not on the build machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server tools lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SOURCE ${NSQ_SOURCE_PACKAGE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${NSQ_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${NSQ_HOMEPAGE})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME ${NSQ_SERVER_PACKAGE})
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS ${NSQ_TOOLS_PACKAGE})
set(CPACK_DEBIAN_SERVER_DESCRIPTION "NSQ realtime distributed messaging platform: daemons (C++)
nsqd, the message broker, and nsqlookupd, the discovery service, of NSQ:
a C++ implementation speaking NSQ 1.3's TCP protocols and HTTP APIs, so
existing NSQ clients and tools work unmodified.

This package runs them as systemd services under the nsq system user, with
their configuration in /etc/nsq and their messages in /var/lib/nsq.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ${NSQ_TOOLS_PACKAGE})
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "NSQ realtime distributed messaging platform: tools (C++)
Command-line tools for NSQ: to_nsq publishes lines from stdin, nsq_tail
prints messages, nsq_to_file archives topics to files, nsq_to_nsq relays
topics between nsqd nodes, nsq_stat prints a channel's counters, and
nsq_bench generates load.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${NSQ_LIB_PACKAGE})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# shlibs file and ldconfig trigger for the package that has a shared library (only lib).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The ldconfig trigger Debian wants (CPack's own postinst/postrm still call ldconfig as well).
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/lib/triggers)
set(CPACK_DEBIAN_LIB_DESCRIPTION "C++ client library for NSQ
A producer (PUB, MPUB, DPUB) and a consumer with handler callbacks for NSQ,
the realtime distributed messaging platform, with go-nsq's configuration
names, TLS, snappy and deflate compression, and discovery through nsqlookupd.

This package contains the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME ${NSQ_DEV_PACKAGE})
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS lib)
# The installed headers include POCO's; the CMake package and the static library need the rest.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libpoco-dev, libssl-dev, zlib1g-dev, libsnappy-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "C++ client library for NSQ: development files
A producer (PUB, MPUB, DPUB) and a consumer with handler callbacks for NSQ,
the realtime distributed messaging platform, with go-nsq's configuration
names, TLS, snappy and deflate compression, and discovery through nsqlookupd.

This package contains the headers, the static library, the CMake package
(find_package(nsq CONFIG) gives nsq::client), the pkg-config file
nsq-client.pc, the guide and the examples.")

# Maintainer scripts and conffiles of the server package, from packaging/debian/.
string(JOIN " " NSQ_UNITS ${NSQ_SYSTEMD_UNITS})
set(NSQ_SYSUSERS_FILE ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d/nsq.conf)
set(server_control)
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/${script}.in ${PROJECT_BINARY_DIR}/packaging/debian/${script}
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
  list(APPEND server_control ${PROJECT_BINARY_DIR}/packaging/debian/${script})
endforeach()
set(conffiles "")
foreach(config ${NSQ_CONFIG_FILES})
  get_filename_component(name ${config} NAME)
  string(APPEND conffiles "${NSQ_CONFIG_FULL_DESTINATION}/${name}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/debian/conffiles "${conffiles}")
list(APPEND server_control ${PROJECT_BINARY_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA "${server_control}")

# Debian wants /usr/share/doc/<package>/copyright and changelog.gz in every package.
if(NSQ_PACKAGING)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/copyright.in ${PROJECT_BINARY_DIR}/packaging/debian/copyright @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/changelog.in ${PROJECT_BINARY_DIR}/packaging/debian/changelog @ONLY)
  execute_process(COMMAND gzip -9 -n -c ${PROJECT_BINARY_DIR}/packaging/debian/changelog
                  OUTPUT_FILE ${PROJECT_BINARY_DIR}/packaging/debian/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
  foreach(component server tools lib dev)
    string(TOUPPER ${component} upper)
    install(FILES ${PROJECT_BINARY_DIR}/packaging/debian/copyright ${PROJECT_BINARY_DIR}/packaging/debian/changelog.gz
            DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME} COMPONENT ${component})
  endforeach()
endif()

include(CPack)
