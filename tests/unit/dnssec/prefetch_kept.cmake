# SPDX-License-Identifier: MIT
# Checks that nsec3_chain_prefetch survives optimisation (see prefetch_caller.c): compiles
# the caller with -O2 to assembly and looks for a prefetch instruction (x86 prefetcht0, or
# arm64 prfm). Other architectures: skipped (ctest sees "SKIP:").
# -D CC=compiler -D ARCH=target processor -D SRC=source dir -D FILE=prefetch_caller.c
# -D OUT=assembly file
execute_process(COMMAND ${CC} -std=c11 -O2 -I${SRC}/src -S -o ${OUT} ${FILE}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot compile ${FILE}: ${err}")
endif()
file(READ ${OUT} asm)
if(asm MATCHES "prefetcht0|prfm")
  message(STATUS "prefetch instructions kept")
elseif(ARCH MATCHES "x86_64|AMD64|aarch64|arm64")
  message(FATAL_ERROR "no prefetch instruction in ${OUT}: the compiler dropped nsec3_chain_prefetch")
else()
  message(STATUS "SKIP: no known prefetch mnemonic for ${ARCH}")
endif()
