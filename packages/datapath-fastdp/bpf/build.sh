#!/bin/sh
# Builds bpf/fastdp.o from bpf/fastdp.c with clang (Debian: clang, libbpf-dev). The object is committed,
# so installs without clang still work; run this after changing the C source (or `pnpm build:bpf`).
set -eu
cd "$(dirname "$0")"
if ! command -v clang >/dev/null 2>&1; then
  echo "clang not found: keeping the committed bpf/fastdp.o" >&2
  exit 0
fi
arch_include="/usr/include/$(uname -m)-linux-gnu"
clang -O2 -g -Wall -Werror -target bpf -I"$arch_include" -c fastdp.c -o fastdp.o.tmp
# Drop DWARF (BTF stays) so the committed object is small and reproducible across build paths.
if command -v llvm-strip >/dev/null 2>&1; then llvm-strip -g fastdp.o.tmp; fi
mv fastdp.o.tmp fastdp.o
echo "built bpf/fastdp.o"
