# Writes OUTPUT: a C file holding, as byte arrays,
#   - every numbered migration in SQL_DIR (NNN_name.sql), in version order;
#   - every function file of SQL_DIR/functions, in the order listed in
#     SQL_DIR/functions/ORDER (a file of the directory missing from the
#     list, or listed but missing, is an error);
# and HEADER: the newest migration's version, for store.c's schema check.
# Run at build time so that editing any SQL file rebuilds the binary.
cmake_policy(SET CMP0057 NEW)
function(embed_bytes var file)
  file(READ "${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  set(${var} "${hex}" PARENT_SCOPE)
endfunction()

file(GLOB files "${SQL_DIR}/[0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "/* Generated from aggregator/sql by cmake/embed_sql.cmake. */\n#include \"migrate.h\"\n\n")
set(table "const struct migration migrations[] = {\n")
set(i 0)
set(latest 0)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 3 ver)
  math(EXPR vnum "1${ver} - 1000")
  embed_bytes(hex "${f}")
  string(APPEND body "static const char sql_${i}[] = {${hex} 0};\n")
  string(APPEND table "\t{${vnum}, \"${name}\", sql_${i}},\n")
  set(latest ${vnum})
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst unsigned migrations_count = ${i};\n")

file(STRINGS "${SQL_DIR}/functions/ORDER" order REGEX "^[a-z0-9_]+$")
file(GLOB present RELATIVE "${SQL_DIR}/functions" "${SQL_DIR}/functions/*.sql")
foreach(p IN LISTS present)
  string(REGEX REPLACE "\\.sql$" "" p "${p}")
  if(NOT p IN_LIST order)
    message(FATAL_ERROR "aggregator/sql/functions/${p}.sql is not listed in functions/ORDER")
  endif()
endforeach()
string(APPEND table "\nconst struct migration_functions migration_functions[] = {\n")
set(n 0)
foreach(name IN LISTS order)
  set(f "${SQL_DIR}/functions/${name}.sql")
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "functions/ORDER names ${name}, but ${f} is missing")
  endif()
  embed_bytes(hex "${f}")
  string(APPEND body "static const char fn_${n}[] = {${hex} 0};\n")
  string(APPEND table "\t{\"functions/${name}.sql\", fn_${n}},\n")
  math(EXPR n "${n} + 1")
endforeach()
string(APPEND table "};\nconst unsigned migration_functions_count = ${n};\n")

file(WRITE "${OUTPUT}.tmp" "${body}\n${table}")
configure_file("${OUTPUT}.tmp" "${OUTPUT}" COPYONLY)
file(WRITE "${HEADER}.tmp"
     "/* Generated from aggregator/sql by cmake/embed_sql.cmake. */\n"
     "#ifndef SCHEMA_VERSION_H\n#define SCHEMA_VERSION_H\n\n"
     "/* The newest numbered migration of this build: the schema version\n"
     " * the aggregator needs. */\n"
     "#define SCHEMA_VERSION ${latest}\n\n#endif\n")
configure_file("${HEADER}.tmp" "${HEADER}" COPYONLY)
