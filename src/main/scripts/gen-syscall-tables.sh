#!/bin/sh
# Generates Hull's seccomp syscall tables from the kernel's own lists: the uapi
# headers asm/unistd_64.h, unistd_32.h and unistd_x32.h (Debian: linux-libc-dev).
# Run by the Maven build (generate-resources); nothing here is typed by hand.
#   gen-syscall-tables.sh ASM_INCLUDE_DIR OUTPUT_DIR
# Output: OUTPUT_DIR/syscalls-{x86_64,i386,x32}.txt, lines "name number"
# (x32 numbers include __X32_SYSCALL_BIT, 0x40000000, as the kernel sees them).
set -eu
asm=$1
out=$2
mkdir -p "$out"
gen() {
    header=$asm/$1
    table=$out/syscalls-$2.txt
    if [ ! -r "$header" ]; then
        echo "gen-syscall-tables: $header is missing: install the kernel's uapi headers (Debian: apt-get install linux-libc-dev)" >&2
        exit 1
    fi
    {
        echo "# generated from $header by src/main/scripts/gen-syscall-tables.sh"
        awk '
            $1 == "#define" && $2 ~ /^__NR_[a-z0-9_]+$/ {
                name = substr($2, 6)
                if ($3 == "(__X32_SYSCALL_BIT") {
                    n = $5; gsub(/[^0-9]/, "", n)
                    printf "%s %d\n", name, 1073741824 + n
                } else if ($3 ~ /^[0-9]+$/) {
                    printf "%s %d\n", name, $3
                } else {
                    printf "gen-syscall-tables: cannot read line: %s\n", $0 > "/dev/stderr"; exit 1
                }
            }' "$header"
    } > "$table.tmp"
    count=$(grep -vc '^#' "$table.tmp" || true)
    if [ "$count" -lt 300 ]; then
        echo "gen-syscall-tables: only $count syscalls found in $header" >&2
        exit 1
    fi
    mv "$table.tmp" "$table"
}
gen unistd_64.h x86_64
gen unistd_32.h i386
gen unistd_x32.h x32
