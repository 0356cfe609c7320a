#!/usr/bin/env bash
# Runs the tests that drive the compiled kernels against a second build of them, made with
# AddressSanitizer and UndefinedBehaviorSanitizer: a read or write outside a buffer, a use
# after free, or undefined behaviour in the kernels (codec/kernels/c/) then stops the test
# run with a report, where the regular build would go on (or crash only sometimes).
#
#   tests/native/sanitized_tests.sh [PYTEST ARGS...]      (from anywhere; CI runs it)
#
# PYTHON (default: .venv/bin/python) is the interpreter whose installed huffkit is tested:
# its package is copied to a temporary folder, the sanitized extension replaces the
# regular one there, and that folder goes first on PYTHONPATH.  The sources are not
# touched.  KERNELS_SOURCE (default: codec/kernels/c) picks other sources, a folder (all its
# .c files) or a single C file such as the one-file kernels of old, to check that an old
# version is caught.  Any sanitizer report fails the run.  SANITIZE=0 makes a plain -O3
# build with $CC instead, no sanitizer: CI runs the backend tests on a clang build so, since
# pip builds with gcc here and the speed and the correctness of C may depend on the compiler.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
kernels="${KERNELS_SOURCE:-codec/kernels/c}"
if [ -d "$kernels" ]; then
    sources=("$kernels"/*.c)
else
    sources=("$kernels")
fi
cc="${CC:-gcc}"

work="$(mktemp -d "${TMPDIR:-/tmp}/huffkit-sanitized.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/site" "$work/reports"

# Copy the installed package as Python finds it (a regular install keeps huffkit.cli and
# huffkit.corpora inside huffkit/; an editable one maps them to other folders), from a
# folder where `huffkit` cannot mean the sources.
(cd "$work" && "$python" - "$work/site" <<'PY'
import importlib, pathlib, shutil, sys
target = pathlib.Path(sys.argv[1])
for name in ("huffkit", "huffkit.cli", "huffkit.corpora"):
    folder = pathlib.Path(importlib.import_module(name).__file__).parent
    destination = target.joinpath(*name.split("."))
    shutil.copytree(folder, destination, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "_ckernels*.so", "cli",
                                                  "corpora"))
PY
)
suffix="$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
include="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
module="$work/site/huffkit/kernels/_ckernels$suffix"
if [ "${SANITIZE:-1}" = 0 ]; then
    # A plain build, as pip makes it but with $CC: the tests then check that this compiler's
    # kernels give the same bytes and errors as the numpy reference.
    "$cc" -shared -fPIC -O3 -fwrapv -ffp-contract=off -DNDEBUG \
        -I"$include" "${sources[@]}" -lm -o "$module"
else
    # -O1 keeps the reports' stacks readable; no -fwrapv (unlike the regular build), so that
    # a signed overflow is reported rather than defined away.
    "$cc" -shared -fPIC -O1 -g -fno-omit-frame-pointer -ffp-contract=off \
        -fsanitize=address,undefined -fno-sanitize-recover=all \
        -I"$include" "${sources[@]}" -lm -o "$module"

    asan="$("$cc" -print-file-name=libasan.so)"
    ubsan="$("$cc" -print-file-name=libubsan.so)"
    export LD_PRELOAD="$asan:$ubsan"
    # No leak checking: CPython keeps memory to the end on purpose.  AddressSanitizer's
    # reports also go to files, so that one in a subprocess whose failure a test expects
    # still fails the run; UndefinedBehaviorSanitizer's go to standard error (its log_path
    # is not read in this combined runtime), and it aborts the process.
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$work/reports/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    # Python's own small-object allocator hands out pieces of large arenas, inside which
    # AddressSanitizer sees no bounds: with malloc, a read past a bytes object is reported.
    export PYTHONMALLOC=malloc
fi
export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"

# The tests must load the sanitized build, and run on it.
(cd "$work" && "$python" - "$module" <<'PY'
import sys
import huffkit
from huffkit.kernels import _ckernels, backend
assert _ckernels.__file__ == sys.argv[1], (_ckernels.__file__, sys.argv[1])
assert backend.name() == "c", backend.name()
print(f"testing {huffkit.__file__} with {_ckernels.__file__}, built by {_ckernels.COMPILER}")
PY
)

# By default the tests that drive the kernels, each once: on the numpy backend a test
# calls no C (a test that compares the backends runs on both, whatever its name).
if [ "$#" -eq 0 ]; then
    set -- -k "not numpy and not ppmd and not canterbury and not least_payload" \
        tests/kernels tests/format/test_format_spec.py \
        tests/stream/test_split.py tests/format/test_corruption.py \
        tests/format/test_exhaustive_damage.py tests/format/test_block_runs.py \
        tests/format/test_ans_runs.py tests/models/test_sequential.py \
        tests/models/test_static_model.py tests/models/test_context_mixing.py \
        tests/models/test_predicted.py tests/format/test_model_blocks.py
fi
# PYTEST_WORKERS=N runs them on N processes (needs pytest-xdist; each worker loads the
# sanitized build, and AddressSanitizer's reports go to files named by process).
workers=()
if [ -n "${PYTEST_WORKERS:-}" ]; then
    workers=(-n "$PYTEST_WORKERS")
fi
status=0
# --capture=sys: pytest captures Python's output only, so a report written to file
# descriptor 2 by a process that then aborts reaches the log instead of a lost capture file.
"$python" -m pytest -q -p no:cacheprovider --capture=sys "${workers[@]}" "$@" || status=$?
if compgen -G "$work/reports/*" > /dev/null; then
    echo "sanitizer reports:" >&2
    cat "$work"/reports/* >&2
    status=1
fi
exit "$status"
