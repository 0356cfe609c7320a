#!/usr/bin/env bash
# Builds the libFuzzer harness of the C decoders (tests/native/fuzz_kernels.c) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs it on one core.
#
#   tests/native/fuzz.sh [SECONDS] [-- LIBFUZZER FLAGS...]     (default: 60 seconds)
#
# FUZZ_DIR (default: $TMPDIR/huffkit-native-fuzz) keeps the corpus between runs, and any
# crashing input (crash-*, oom-*, timeout-*; replay one with `$FUZZ_DIR/fuzz_kernels FILE`).
# PYTHON (default: .venv/bin/python) is the Python whose headers and library it embeds.
# Exits non-zero when the fuzzer finds anything.  Needs clang and its runtimes (Debian:
# apt-get install clang libclang-rt-14-dev).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
seconds="${1:-60}"
shift $(( $# > 0 ? 1 : 0 ))
[ "${1:-}" = "--" ] && shift
dir="${FUZZ_DIR:-${TMPDIR:-/tmp}/huffkit-native-fuzz}"
mkdir -p "$dir/corpus" "$dir/seeds"

eval "$("$python" - <<'PY'
import shlex, sys, sysconfig
v = sysconfig.get_config_var
print(f"include={shlex.quote(sysconfig.get_paths()['include'])}")
print(f"libdir={shlex.quote(v('LIBDIR'))}")
print(f"library=python{v('LDVERSION')}")
print(f"syslibs={shlex.quote(' '.join(filter(None, [v('LIBS'), v('SYSLIBS')])))}")
print(f"home={shlex.quote(sys.base_prefix)}")
PY
)"
binary="$dir/fuzz_kernels"
# shellcheck disable=SC2086  # syslibs holds several flags
clang -g -O1 -fno-omit-frame-pointer -ffp-contract=off \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fsanitize-coverage-ignorelist="$root/tests/native/fuzz_ignore.txt" \
    -I"$include" "$root/tests/native/fuzz_kernels.c" \
    -L"$libdir" -l"$library" -Wl,-rpath,"$libdir" $syslibs -lm -o "$binary"

# Seeds: a recipe or two of each mode (the first byte picks it; see LLVMFuzzerTestOneInput),
# among them long runs (mode 0, odd second byte) and long rANS chains (mode 4).
seed() { printf "$2" > "$dir/seeds/$1"; }
seed run-short '\x00\x00\x05\x00\x03\x10\x00\x01\x02'
seed run-long '\x00\x01\x40\x1f\x01\x00\x02\x80\x00\x00'
seed run-long-handed '\x01\x01\xff\x1f\x00\x00\x05\x00\x20\x00\xc8'
seed run-damaged '\x00\x01\x00\x04\x01\x00\x02\x30\x00\x00\x00\x00\x00\x00\x00\xf1\x20\x00\x55'
seed run-raw '\x02\x00\x10\x00\x05\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00'
seed ans-run-raw '\x82\x00\x10\x00\x05\x01\x0c\x61\x83\x03\x00\x00\x00\x00\x08\x80\x00\x00\x00\x00'
seed huffman-bytes '\x03\x00\x00\x00\x0e\x01\x00\x00\x20\x4e\x03'
seed huffman-wide '\x03\x01\x01\x00\x10\x01\xff\x0f\x02\x00\x00\x10\x27\x03\x00'
seed ans-bytes '\x04\x00\x0f\x00\x02\x00\x00\x00\x00\x00\x20\x4e'
seed ans-chain '\x04\x01\x17\x00\x00\x01\x00\x00\x01\xff\xb8\x0b'
seed ans-raw '\x84\x00\x03\x00\x01\x00\x00\x01\x00\x00\x10\x00\x00\x00\x01\x00\x00\x00'
seed compact '\x05\x01\x00\x01\x00'
seed compact-raw '\x06\x00\x7f\xff\x00\x12\x34'
seed cm '\x67\x00\x02the cat sat on the mat; the cat sat on the \xc0\xc1\xc2\xc3'
seed cm-raw '\xe7\x10\x00\x41\x80\x00\x13\x37'
seed varints '\x07\x05\x00\x02\x00\x81\x80\x01\x7f\xff\xff\x7f'
seed static '\x47\x02\x00\x04\x05\x00\x02\x00\x00\x61\x62\x63\x61\x62'
seed static-damaged '\x47\x01\xff\x03\x1a\x00\x01\x00\x02\x6c\x6f\x6f\x6c\x01\x02\x05'
seed probability '\x4f\x00\xff\x00\x10\x05\x00\x03\x40\x00\x01\x02\x03\x04'
seed probability-large '\x4f\x01\x00\x10\x08\x02\x00\x01\x00\x80\x00\x07'
seed probability-raw '\x5f\x05\x00\x10\x20\x00\x11\x22\x33\x44\x55\x66\x77\x01\x88\x99\xaa\xbb'

export PYTHONHOME="$home"  # the embedded interpreter's standard library
# No leak checking (CPython keeps memory on purpose), and a smaller quarantine of freed
# memory than the default 256 MiB, which with the interpreter nears the RSS limit.
export ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONMALLOC=malloc  # a read past a bytes object is then past its allocation
cd "$dir"
exec "$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$@" "$dir/corpus" "$dir/seeds"
