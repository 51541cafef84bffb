# Packages: `cmake --build build --target package` writes, into build/,
#   opspulse-agent_VERSION-RELEASE_ARCH.deb       opspulse-agent-VERSION-RELEASE.ARCH.rpm
#   opspulse-aggregator_VERSION-RELEASE_ARCH.deb  opspulse-aggregator-VERSION-RELEASE.ARCH.rpm
# One CPack component per package: `agent` (the agent daemon and record
# commands) and `aggregator` (the aggregator and the opspulse CLI, SPEC §1).
# Maintainer scripts, units and manual pages live in packaging/.

set(OPSPULSE_PACKAGE_RELEASE 1 CACHE STRING
    "Package release (Debian revision, RPM release); raise it to rebuild one version")
set(OPSPULSE_PACKAGE_MAINTAINER "OpsPulse maintainers" CACHE STRING
    "Maintainer of the packages (Debian Maintainer, RPM Packager)")
set(OPSPULSE_SYSTEMD_UNITDIR /usr/lib/systemd/system CACHE PATH
    "Where the packages put systemd units")

# The binaries read /etc/opspulse/*.conf, whatever the install prefix.
set(PKG_CONFDIR /etc/opspulse)
set(PKG_SRC ${CMAKE_SOURCE_DIR}/packaging)
set(PKG_OUT ${CMAKE_BINARY_DIR}/packaging)

# ---- what each package holds ---------------------------------------------

# Manual pages, compressed as both Debian and RPM distributions ship them.
function(opspulse_man page section component)
  set(out ${PKG_OUT}/man/${page}.${section}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PKG_OUT}/man
    COMMAND gzip -9nc ${PKG_SRC}/man/${page}.${section} > ${out}
    DEPENDS ${PKG_SRC}/man/${page}.${section}
    COMMENT "Compressing manual page ${page}(${section})")
  add_custom_target(man-${page} ALL DEPENDS ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section}
          COMPONENT ${component})
endfunction()

# Everything of one package that is not a binary: configuration, unit,
# manual pages and documentation.
function(opspulse_package_files component pkg)
  install(FILES ${PKG_SRC}/systemd/${pkg}.service
          DESTINATION ${OPSPULSE_SYSTEMD_UNITDIR} COMPONENT ${component})
  install(FILES ${CMAKE_SOURCE_DIR}/README.md
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${component})
  install(FILES ${CMAKE_SOURCE_DIR}/LICENSE RENAME copyright
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${component})
endfunction()

opspulse_package_files(agent opspulse-agent)
install(FILES ${CMAKE_SOURCE_DIR}/config/agent.conf DESTINATION ${PKG_CONFDIR}
        COMPONENT agent)
opspulse_man(opspulse-agent 1 agent)
# The import format, which the manual page and import --help point to.
install(FILES ${CMAKE_SOURCE_DIR}/docs/IMPORT.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/opspulse-agent COMPONENT agent)

opspulse_package_files(aggregator opspulse-aggregator)
install(FILES ${CMAKE_SOURCE_DIR}/config/aggregator.conf
        DESTINATION ${PKG_CONFDIR} COMPONENT aggregator)
# The CLI reads ~/.config/opspulse/cli.conf: an example, not a conffile.
install(FILES ${CMAKE_SOURCE_DIR}/config/cli.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/opspulse-aggregator/examples
        COMPONENT aggregator)
opspulse_man(opspulse-aggregator 8 aggregator)
opspulse_man(opspulse 1 aggregator)

# ---- maintainer scripts ----------------------------------------------------

# The same three scripts serve both formats: they tell a .deb call
# (`configure OLD-VERSION`, `remove`, `purge`, ...) from an .rpm one (a
# package count) by their first argument.
function(opspulse_scripts component pkg user home statedir conffiles note)
  set(PKG_NAME ${pkg})
  set(PKG_NOTE "${note}")
  set(PKG_USER ${user})
  set(PKG_HOME ${home})
  set(PKG_STATE_DIR ${statedir})
  set(PKG_UNIT ${pkg}.service)
  set(PKG_CONFFILES "${conffiles}")
  set(dir ${PKG_OUT}/${component})
  foreach(script postinst prerm postrm)
    configure_file(${PKG_SRC}/scripts/${script}.in ${dir}/${script} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                   GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  string(REPLACE ";" "\n" lines "${conffiles}")
  file(WRITE ${dir}/conffiles "${lines}\n")

  string(TOUPPER ${component} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA
      "${dir}/postinst;${dir}/prerm;${dir}/postrm;${dir}/conffiles" PARENT_SCOPE)
  set(CPACK_RPM_${C}_POST_INSTALL_SCRIPT_FILE ${dir}/postinst PARENT_SCOPE)
  set(CPACK_RPM_${C}_PRE_UNINSTALL_SCRIPT_FILE ${dir}/prerm PARENT_SCOPE)
  set(CPACK_RPM_${C}_POST_UNINSTALL_SCRIPT_FILE ${dir}/postrm PARENT_SCOPE)
  list(TRANSFORM conffiles PREPEND "%config(noreplace) ")
  set(CPACK_RPM_${C}_USER_FILELIST "${conffiles}" PARENT_SCOPE)
endfunction()

# The agent daemon runs as opspulse-agent and owns its spool.  The
# aggregator runs as opspulse, the name of the PostgreSQL role that
# `opspulse-aggregator init-db` creates, so that a local database needs no
# password (peer authentication).
opspulse_scripts(agent opspulse-agent opspulse-agent /var/lib/opspulse-agent
  /var/lib/opspulse-agent "${PKG_CONFDIR}/agent.conf"
  "  set the aggregators and TLS files in ${PKG_CONFDIR}/agent.conf
  systemctl enable --now opspulse-agent")
opspulse_scripts(aggregator opspulse-aggregator opspulse /nonexistent ""
  "${PKG_CONFDIR}/aggregator.conf"
  "  review ${PKG_CONFDIR}/aggregator.conf (listen addresses, TLS files)
  sudo -u postgres opspulse-aggregator init-db
  systemctl enable --now opspulse-aggregator")

# ---- CPack -------------------------------------------------------------------

set(CPACK_PACKAGE_NAME opspulse)
set(CPACK_PACKAGE_VENDOR "OpsPulse")
set(CPACK_PACKAGE_CONTACT "${OPSPULSE_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL ${PROJECT_HOMEPAGE_URL})
# Each package has its own summary (below).  CPackDeb puts a custom project
# summary in front of every component's description, but leaves its own
# default alone: so the default it is.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_COMPONENTS_ALL agent aggregator)
set(CPACK_GENERATOR DEB)
find_program(RPMBUILD rpmbuild)
if(RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
else()
  message(STATUS "rpmbuild not found: the package target builds .deb files only")
endif()

set(OPSPULSE_AGENT_SUMMARY "OpsPulse agent: records toil, deploys, alerts, versions and capacity")
set(OPSPULSE_AGENT_DESCRIPTION "OpsPulse measures how sustainable a company's operations are.
The agent runs on every host: its record commands and command wrapper log
deploys, toil and batch runs into a durable on-disk spool, and its daemon
receives Alertmanager webhooks, probes middleware versions for end-of-life
tracking, samples host capacity and ships everything to the aggregator.")
set(OPSPULSE_AGGREGATOR_SUMMARY "OpsPulse aggregator and CLI: stores events, computes indicators")
set(OPSPULSE_AGGREGATOR_DESCRIPTION "OpsPulse measures how sustainable a company's operations are.
The aggregator receives events from OpsPulse agents, stores each exactly
once in PostgreSQL and computes DevOps indicators there (DORA, toil,
alert noise, end of life, capacity).  The package also holds the opspulse
CLI, the SQL migrations and the EOL catalog.")

# Debian
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${OPSPULSE_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME opspulse-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS adduser)
# The PostgreSQL version probe loads libpq only when it is configured.
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS libpq5)
set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_NAME opspulse-aggregator)
set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_SUGGESTS postgresql)
set(CPACK_DEBIAN_AGENT_DESCRIPTION "${OPSPULSE_AGENT_SUMMARY}\n${OPSPULSE_AGENT_DESCRIPTION}")
set(CPACK_DEBIAN_AGGREGATOR_DESCRIPTION
    "${OPSPULSE_AGGREGATOR_SUMMARY}\n${OPSPULSE_AGGREGATOR_DESCRIPTION}")

# RPM
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE ${OPSPULSE_PACKAGE_RELEASE})
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_URL ${PROJECT_HOMEPAGE_URL})
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)
set(CPACK_RPM_DEBUGINFO_PACKAGE OFF)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/systemd /usr/lib/systemd/system /usr/share/man
    /usr/share/man/man1 /usr/share/man/man8)
set(CPACK_RPM_AGENT_PACKAGE_NAME opspulse-agent)
set(CPACK_RPM_AGENT_PACKAGE_SUMMARY ${OPSPULSE_AGENT_SUMMARY})
set(CPACK_RPM_AGENT_PACKAGE_DESCRIPTION ${OPSPULSE_AGENT_DESCRIPTION})
set(CPACK_RPM_AGGREGATOR_PACKAGE_NAME opspulse-aggregator)
set(CPACK_RPM_AGGREGATOR_PACKAGE_SUMMARY ${OPSPULSE_AGGREGATOR_SUMMARY})
set(CPACK_RPM_AGGREGATOR_PACKAGE_DESCRIPTION ${OPSPULSE_AGGREGATOR_DESCRIPTION})
# The scripts create the system user (Fedora, RHEL and SUSE paths alike).
set(CPACK_RPM_AGENT_PACKAGE_REQUIRES_POST "/usr/sbin/useradd, /usr/sbin/groupadd")
set(CPACK_RPM_AGGREGATOR_PACKAGE_REQUIRES_POST "/usr/sbin/useradd, /usr/sbin/groupadd")

include(CPack)
cpack_add_component(agent DISPLAY_NAME "OpsPulse agent")
cpack_add_component(aggregator DISPLAY_NAME "OpsPulse aggregator and CLI")
