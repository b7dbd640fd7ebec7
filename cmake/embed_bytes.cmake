# SPDX-License-Identifier: MIT
# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_bytes.cmake: writes a C file defining
# `const unsigned char NAME[]` with IN's bytes and `const unsigned int NAME_len` (the XDP
# program embedded in meridiand, src/CMakeLists.txt).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed_bytes.cmake. */\n"
     "const unsigned char ${NAME}[] = {\n    ${bytes}\n};\n"
     "const unsigned int ${NAME}_len = ${len};\n")
