#!/bin/bash
# Builds etcd, kube-apiserver and kube-controller-manager (whose
# EndpointSlice controller the cluster test needs) from their published Go
# modules into a cache directory outside the repo, once; later runs find
# them there.
#
#   selftests/k8s-real/build.sh [--check]
#
# --check only reports (exit 0) whether all three binaries are in the cache.
# The cache is $XLB_K8S_CACHE, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/xlb/k8s-<version>; the Go module and
# build caches live under it too, so a second build (another checkout,
# a wiped bin/) reuses them. Only the Go module proxy is needed.
# Prints the bin directory on the last line of stdout on success.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/versions.sh"

go_bin="${XLB_GO:-}"
if [ -z "$go_bin" ]; then
	go_bin="$(command -v go 2>/dev/null || true)"
	[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
fi

bin="$XLB_K8S_CACHE/bin"
if [ -x "$bin/etcd" ] && [ -x "$bin/kube-apiserver" ] &&
	[ -x "$bin/kube-controller-manager" ]; then
	echo "$bin"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "not built: $bin/etcd, $bin/kube-apiserver, $bin/kube-controller-manager" >&2
	exit 1
fi
if [ -z "$go_bin" ]; then
	echo "error: cannot build: no Go toolchain (go in PATH or /usr/local/go/bin/go)" >&2
	exit 3
fi
# Kubernetes' go.mod says which Go it needs; GOTOOLCHAIN=local below
# forbids downloading a newer one.
need="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$here/apiserver/go.mod")"
have="$("$go_bin" env GOVERSION 2>/dev/null)"
have="${have#go}"
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
	echo "error: cannot build: Kubernetes $XLB_K8S_VERSION needs Go >= $need, $go_bin is ${have:-unknown}" >&2
	exit 3
fi

mkdir -p "$XLB_K8S_CACHE" "$bin" || exit 1
exec 9>"$XLB_K8S_CACHE/build.lock"
if ! flock -w 1800 9; then
	echo "error: another build holds $XLB_K8S_CACHE/build.lock" >&2
	exit 1
fi

export GOMODCACHE="$XLB_K8S_CACHE/gomod"
export GOCACHE="$XLB_K8S_CACHE/gocache"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOPATH="$XLB_K8S_CACHE/gopath"

# build NAME MODULE_DIR PACKAGE [GO BUILD ARGS...]: builds PACKAGE in a
# copy of the wrapper module MODULE_DIR (go -mod=mod rewrites go.mod and
# go.sum; the repo's copies stay untouched) into $bin/NAME.
build() {
	local name="$1" mod="$2" pkg="$3" src start rc
	shift 3
	[ -x "$bin/$name" ] && return 0
	src="$XLB_K8S_CACHE/src/$(basename "$mod")"
	mkdir -p "$src" && cp "$mod/go.mod" "$src/" || return 1
	[ -f "$mod/go.sum" ] && cp "$mod/go.sum" "$src/"
	start=$(date +%s)
	echo "building $name ($pkg) with $("$go_bin" version)" >&2
	(cd "$src" && /usr/bin/time -f "$name: %e s wall, %U s user, %M KiB max RSS" \
		"$go_bin" build -trimpath -o "$bin/.$name.tmp" "$@" "$pkg")
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "error: building $name failed (status $rc)" >&2
		rm -f "$bin/.$name.tmp"
		return 1
	fi
	mv "$bin/.$name.tmp" "$bin/$name" || return 1
	echo "$name built in $(($(date +%s) - start)) s" >&2
}

ver_pkg=k8s.io/component-base/version
minor="${XLB_K8S_VERSION#v1.}"
minor="${minor%%.*}"
build etcd "$here/etcd" go.etcd.io/etcd/server/v3 || exit 1
ldflags="-s -w -X $ver_pkg.gitVersion=$XLB_K8S_VERSION -X $ver_pkg.gitMajor=1 -X $ver_pkg.gitMinor=$minor -X $ver_pkg.gitTreeState=clean"
build kube-apiserver "$here/apiserver" k8s.io/kubernetes/cmd/kube-apiserver \
	-ldflags "$ldflags" || exit 1
# The same wrapper module: kube-controller-manager is in k8s.io/kubernetes
# too, so its build reuses most of kube-apiserver's compiled packages.
build kube-controller-manager "$here/apiserver" \
	k8s.io/kubernetes/cmd/kube-controller-manager -ldflags "$ldflags" || exit 1
echo "$bin"
