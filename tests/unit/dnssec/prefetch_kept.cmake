# SPDX-License-Identifier: MIT
# Checks that the answer path's prefetch helpers survive optimisation (see
# prefetch_caller.c): compiles the callers with -O2 to assembly and looks for a prefetch
# instruction (x86 prefetcht0, or arm64 prfm) in each caller's body. Other architectures:
# skipped (ctest sees "SKIP:").
# -D CC=compiler -D ARCH=target processor -D SRC=source dir -D FILE=prefetch_caller.c
# -D OUT=assembly file
execute_process(COMMAND ${CC} -std=c11 -O2 -I${SRC}/src -S -o ${OUT} ${FILE}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot compile ${FILE}: ${err}")
endif()
file(READ ${OUT} asm)
if(NOT ARCH MATCHES "x86_64|AMD64|aarch64|arm64")
  message(STATUS "SKIP: no known prefetch mnemonic for ${ARCH}")
  return()
endif()
# Each caller's body: from its label to its .size directive (GCC and Clang emit both).
foreach(fn prefetch_caller rrsig_prefetch_caller)
  string(FIND "${asm}" "\n${fn}:" from)
  string(FIND "${asm}" ".size\t${fn}," to)
  if(from EQUAL -1 OR to EQUAL -1 OR to LESS from)
    message(FATAL_ERROR "cannot find the body of ${fn} in ${OUT}")
  endif()
  math(EXPR len "${to} - ${from}")
  string(SUBSTRING "${asm}" ${from} ${len} body)
  if(NOT body MATCHES "prefetcht0|prfm")
    message(FATAL_ERROR "no prefetch instruction in ${fn} (${OUT}): the compiler dropped its prefetch helper")
  endif()
endforeach()
message(STATUS "prefetch instructions kept")
