#!/bin/bash
# The C tests (the build/selftests/test_* binaries: unit tests and the
# packet tests through BPF_PROG_TEST_RUN) built again into build-asan/
# with -Db_sanitize=address,undefined (gcc; UBSan without recovery, so a
# finding ends the run) and run with ASan's leak check on. One line per
# binary: a sanitizer report, a failed check or a non-zero exit is a
# FAIL naming the log, whose report gives the stack.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. tools/deps.sh

bdir="$root/build-asan"
logs="$bdir/sanitize-logs"
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

xlb_install_deps || { fail "packages (tools/deps.sh) missing"; exit 1; }
xlb_setup_dir "$bdir" "$logs/setup.log" -Db_sanitize=address,undefined \
	-Dc_args=-fno-sanitize-recover=all || exit 1
# The test binaries only (not xlbd, xlbctl or the bench).
mapfile -t tests < <(ninja -C "$bdir" -t targets all |
	sed -n 's/^\(selftests\/test_[a-z0-9_]*\): .*/\1/p' | sort -u)
if [ ${#tests[@]} -eq 0 ]; then
	fail "no selftests/test_* target in build-asan"
	exit 1
fi
xlb_ninja "$bdir" "$logs/build.log" "${tests[@]}" || exit 1

export ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

for t in "${tests[@]}"; do
	n="$(basename "$t")"
	log="$logs/$n.log"
	start=$(date +%s)
	"$bdir/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	report=$(grep -m 1 -E 'runtime error|ERROR: (Address|Leak)Sanitizer|SUMMARY: ' "$log")
	if [ -n "$report" ]; then
		fail "$n: $report (log: $log)"
		grep -m 4 -E '^ +#[0-9]+ ' "$log" | sed 's/^ */#   /'
	elif [ "$rc" -ne 0 ] || [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		fail "$n under the sanitizers: status $rc, $p checks passed, $f failed (log: $log)"
	else
		echo "PASS: $n: its $p checks pass under ASan and UBSan, no report (${took} s)"
	fi
done
[ "$fails" -eq 0 ]
