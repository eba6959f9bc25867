#!/bin/bash
# Installs the Debian packages xlb needs to build, test and demo, if any
# is missing. Sourced or run by tools/demo.sh, selftests/run.sh and
# bench/run.sh. libclang-rt-14-dev (libFuzzer and the sanitizer runtimes
# of Debian 12's clang 14, only recommended by clang) is for
# selftests/test_fuzz.sh.
xlb_deps=(clang llvm libclang-rt-14-dev libbpf-dev libelf-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
	libcjson-dev libyaml-dev libmicrohttpd-dev libmnl-dev bpftool meson ninja-build
	pkg-config iproute2 ethtool iptables nftables python3 python3-yaml curl socat
	containernetworking-plugins scdoc
	gnuplot-nox)

xlb_install_deps() {
	local missing=() p
	for p in "${xlb_deps[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "error: missing packages (${missing[*]}) and not root" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			"${missing[@]}" >&2
}

# Configures (once) and builds into build/.
xlb_build() {
	local root
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	if [ ! -f "$root/build/build.ninja" ]; then
		meson setup "$root/build" "$root" >&2 || return 1
	fi
	ninja -C "$root/build" >&2
}

# The sanitizer builds of selftests/test_sanitize.sh and test_fuzz.sh,
# each in a directory of its own. xlb_setup_dir DIR LOG [OPTION...]:
# configures DIR once with those meson options (and $CC); xlb_ninja DIR
# LOG TARGET...: builds them, niced (2 cores are shared). Output goes to
# LOG; a failure prints a FAIL line with what went wrong.
xlb_setup_dir() {
	local dir="$1" log="$2" root
	shift 2
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	mkdir -p "$dir" "$(dirname "$log")"
	if [ -f "$dir/build.ninja" ]; then
		# Regenerated first if a meson.build changed: the targets
		# listed from it must be the tree's.
		ninja -C "$dir" build.ninja >"$log" 2>&1 && return 0
	elif meson setup "$dir" "$root" "$@" >"$log" 2>&1; then
		return 0
	fi
	echo "FAIL: meson setup $(basename "$dir") $*: $(tail -n 3 "$log" | tr '\n' ' ')"
	return 1
}

xlb_ninja() {
	local dir="$1" log="$2"
	shift 2
	nice ninja -C "$dir" "$@" >"$log" 2>&1 && return 0
	echo "FAIL: building $* in $(basename "$dir"): $(grep -m 3 -E 'error|FAILED' "$log" | tr '\n' ' ')"
	return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	xlb_install_deps && xlb_build
fi
