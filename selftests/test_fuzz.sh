#!/bin/bash
# The libFuzzer targets (fuzz/), each for a bounded time: builds
# build-fuzz/ (clang, -Dfuzz=true: ASan, UBSan with no recovery), runs
# every input of fuzz/corpus/<target>/ once (the seeds and the
# regression inputs of defects found before), then fuzzes from a copy of
# that corpus for XLB_FUZZ_TIME seconds (default 60; the targets run side
# by side). Any crash, leak,
# sanitizer report or timeout (10 s for one input) is a FAIL naming the
# reproducer, which `build-fuzz/fuzz/<target> <file>` runs again.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. tools/deps.sh

targets=(fuzz_config fuzz_k8s_translate fuzz_k8s_watch fuzz_kubeconfig)
secs="${XLB_FUZZ_TIME:-60}"
bdir="$root/build-fuzz"
runs="$bdir/fuzz-runs"
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

xlb_install_deps || { fail "packages (tools/deps.sh) missing"; exit 1; }
CC=clang xlb_setup_dir "$bdir" "$runs/setup.log" -Dfuzz=true || exit 1
xlb_ninja "$bdir" "$runs/build.log" "${targets[@]/#/fuzz/}" || exit 1
echo "PASS: the ${#targets[@]} fuzz targets build (clang, -fsanitize=fuzzer,address,undefined)"

export ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# finding TARGET LOG ARTDIR: says what the sanitizer or libFuzzer found
# and where the reproducer is.
finding() {
	local t="$1" log="$2" art="$3" f
	fail "$t: $(grep -m 1 -E 'runtime error|ERROR: |SUMMARY: |Assertion|differs|does not' "$log" || tail -n 1 "$log")"
	f=$(ls "$art"/* 2>/dev/null | head -n 1)
	# Run over files, libFuzzer names each before it runs it.
	[ -z "$f" ] && f=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
	echo "#   reproducer: ${f:-(none written)}; again: build-fuzz/fuzz/$t $f"
	echo "#   log: $log"
}

# Each input of each corpus once: a regression input that fails again
# is named. Then the targets fuzz side by side (the machine's cores
# shared), each for XLB_FUZZ_TIME seconds.
ready=()
for t in "${targets[@]}"; do
	bin="$bdir/fuzz/$t"
	dir="$runs/$t"
	rm -rf "$dir"
	mkdir -p "$dir/art"
	cp -r "fuzz/corpus/$t" "$dir/corpus"
	n=$(ls "$dir/corpus" | wc -l)
	if [ "$n" -eq 0 ]; then
		fail "$t: fuzz/corpus/$t is empty"
		continue
	fi
	if "$bin" -artifact_prefix="$dir/art/" "$dir"/corpus/* >"$dir/corpus.log" 2>&1; then
		echo "PASS: $t: its $n corpus inputs run clean"
		echo "$n" >"$dir/seeds"
		ready+=("$t")
	else
		finding "$t" "$dir/corpus.log" "$dir/art"
	fi
done

declare -A pid
start=$(date +%s)
for t in "${ready[@]}"; do
	dir="$runs/$t"
	nice "$bdir/fuzz/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$dir/art/" "$dir/corpus" >"$dir/fuzz.log" 2>&1 &
	pid[$t]=$!
done
for t in "${ready[@]}"; do
	dir="$runs/$t"
	wait "${pid[$t]}"
	rc=$?
	took=$(($(date +%s) - start))
	n=$(cat "$dir/seeds")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
	cov=$(grep -o 'cov: [0-9]*' "$dir/fuzz.log" | tail -n 1)
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$dir/art")" ]; then
		finding "$t" "$dir/fuzz.log" "$dir/art"
	elif [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
		fail "$t: no input executed in ${took} s (log: $dir/fuzz.log)"
	else
		echo "PASS: $t: ${secs} s beside the other targets, ${execs:-0} inputs ($((execs / (secs ? secs : 1)))/s), ${cov:-cov: ?}, corpus $n -> $(ls "$dir/corpus" | wc -l), no finding"
	fi
done
[ "$fails" -eq 0 ]
