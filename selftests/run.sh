#!/bin/bash
# The one test command: installs missing packages, builds, runs every
# test and ends with "N passed, N failed". Exits non-zero on any failure.
#
# Every test prints one "PASS: ..." or "FAIL: ..." line per check, and
# "NOTE: ..." for a measured goal it does not reach (a finding, shown
# here, counted neither way). C tests
# are the build/selftests/test_* binaries, shell tests selftests/test_*.sh.
# A test that exits non-zero without printing a FAIL line counts as one
# failure of its own. Pass test names as arguments to run only those;
# NAME/SUB runs only the named sub-runs of a C test (TEST_SUB() in
# testlib.h; SUB is a shell pattern: test_frag/tc/v6, test_frag/xdp/*).
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. tools/deps.sh

xlb_install_deps || { echo "0 passed, 1 failed"; exit 1; }
xlb_build || { echo "FAIL: build"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

# The real components some tests run (etcd, kube-apiserver and
# kube-controller-manager, helm) are built from their Go modules once,
# into ~/.cache/xlb, before the tests start: on a fresh machine that takes
# 15-20 minutes of the suite's time, afterwards nothing. A build that
# fails is one failure here, and the tests that need it fail too: a test
# that cannot run is never skipped silently. XLB_K8S_BUILD=0 skips the
# build; those tests then say SKIP (for a machine without Go; CI never
# sets it).
prepare_real() {
	local log="$root/build/test-logs/prepare-real.log" start=$(date +%s)
	[ "${XLB_K8S_BUILD:-1}" = 0 ] && return 0
	mkdir -p "$root/build/test-logs"
	echo "== real control plane and helm (built once into ~/.cache/xlb)"
	if ! "$root/selftests/k8s-real/build.sh" >"$log" 2>&1; then
		echo "   FAIL: building etcd, kube-apiserver, kube-controller-manager; last lines of $log:"
		grep -v '^go: downloading' "$log" | tail -n 8 | sed 's/^/     /'
		failed=$((failed + 1))
	fi
	if ! "$root/tools/helm.sh" --path >>"$log" 2>&1; then
		echo "   FAIL: building helm; last lines of $log:"
		grep -v '^go: downloading' "$log" | tail -n 8 | sed 's/^/     /'
		failed=$((failed + 1))
	fi
	echo "   ready ($(($(date +%s) - start)) s)"
}
logdir="$root/build/test-logs"
mkdir -p "$logdir"

run_one() {
	local name="$1"; shift
	local log="$logdir/$name.log" rc p f start end
	start=$(date +%s)
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	grep -E '^(FAIL|SKIP|NOTE): ' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   FAIL: $name exited with status $rc; last lines:"
		tail -n 15 "$log" | sed 's/^/     /'
		f=1
	fi
	echo "   $p passed, $f failed ($((end - start)) s, log: $log)"
	passed=$((passed + p))
	failed=$((failed + f))
}

tests=()
for t in build/selftests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] && tests+=("$t")
done
for t in selftests/test_*.sh; do
	[ -f "$t" ] && tests+=("$t")
done

# The sub-run pattern given for test $1 (after its "name/"), if any.
sub_of() {
	local a
	for a in "${selected[@]}"; do
		case "$a" in "$1"/*) echo "${a#*/}"; return ;; esac
	done
}

selected=("$@")
need_real=0
for t in "${tests[@]}"; do
	case "$(basename "$t" .sh)" in
	test_k8s_real | test_helm | test_cluster)
		if [ $# -eq 0 ] || case " ${selected[*]%%/*} " in
			*" $(basename "$t" .sh) "*) true ;; *) false ;; esac; then
			need_real=1
		fi
		;;
	esac
done
[ "$need_real" = 1 ] && prepare_real
for t in "${tests[@]}"; do
	name="$(basename "$t")"
	sub=""
	if [ $# -gt 0 ]; then
		sub="$(sub_of "${name%.sh}")"
		case " ${selected[*]%%/*} " in
		*" ${name%.sh} "* | *" $name "*) ;;
		*) continue ;;
		esac
	fi
	case "$t" in
	*.sh) run_one "${name%.sh}" bash "$t" ;;
	*) XLB_TEST_SUB="$sub" run_one "$name" "$t" ;;
	esac
done

# Tests attach xlbd's socket hooks only to cgroups they make: one left on
# the machine's cgroup v2 root would balance every process here.
cgroot="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"
if [ -n "$cgroot" ] && bpftool cgroup show "$cgroot" 2>/dev/null | grep -q ' xlb_sock_'; then
	echo "== machine root cgroup"
	echo "   FAIL: xlb socket hooks attached to $cgroot (bpftool cgroup show $cgroot)"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
