#!/bin/bash
# Provides helm at a pinned version, built once from its Go module into a
# cache directory outside the repository:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/xlb/helm-$XLB_HELM_VERSION/helm
#
#   tools/helm.sh --path     build if needed, print the binary's path
#   tools/helm.sh ARGS...    build if needed, run helm ARGS...
#
# Needs a Go toolchain at least as new as the go directive of helm's
# go.mod (XLB_HELM_GO_MIN): `go` on PATH, /usr/local/go/bin/go, or
# Debian's golang-go (installed when running as root and no Go is found).
# Exits 3 with the reason on stderr when helm cannot be built here, so
# callers can tell "cannot build" from a helm failure.
set -u

XLB_HELM_VERSION="${XLB_HELM_VERSION:-v3.19.5}"
# helm v3.19.x: go.mod says "go 1.24.0"; its Kubernetes libraries are
# v0.34.x, the API version lint and template assume.
XLB_HELM_GO_MIN="1.24"
XLB_HELM_K8S_MAJOR=1
XLB_HELM_K8S_MINOR=34

helm_dir="${XDG_CACHE_HOME:-$HOME/.cache}/xlb/helm-$XLB_HELM_VERSION"
helm_bin="$helm_dir/helm"

cannot() {
	echo "helm.sh: cannot build helm $XLB_HELM_VERSION: $*" >&2
	exit 3
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# go_version GO: its version without the "go" prefix, e.g. 1.26.8.
go_version() {
	local v
	v="$("$1" env GOVERSION 2>/dev/null)" || return 1
	v="${v#go}"
	echo "${v%%[-+ ]*}"
}

# Sets go and gover to the first Go toolchain new enough for helm (go on
# PATH, /usr/local/go, Debian's), installing Debian's golang-go when there
# is no Go at all. Returns 1 with the reason in go_why otherwise.
find_go() {
	local g v seen=()
	go_why=
	for g in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
		[ -n "$g" ] && [ -x "$g" ] || continue
		v="$(go_version "$g")" || continue
		if version_ge "$v" "$XLB_HELM_GO_MIN"; then
			go="$g"
			gover="$v"
			return 0
		fi
		seen+=("$g is Go $v")
	done
	if [ ${#seen[@]} -eq 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "helm.sh: no Go toolchain; installing Debian's golang-go" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >&2
		g="$(command -v go 2>/dev/null)"
		if [ -n "$g" ] && v="$(go_version "$g")"; then
			if version_ge "$v" "$XLB_HELM_GO_MIN"; then
				go="$g"
				gover="$v"
				return 0
			fi
			seen+=("$g (Debian's golang-go) is Go $v")
		fi
	fi
	if [ ${#seen[@]} -eq 0 ]; then
		go_why="no Go toolchain (go on PATH, /usr/local/go/bin/go) and Debian's golang-go not installable"
	else
		go_why="$(IFS=,; echo "${seen[*]}"), helm $XLB_HELM_VERSION needs Go >= $XLB_HELM_GO_MIN"
	fi
	return 1
}

build_helm() {
	local go gover go_why tmp start end pkg=helm.sh/helm/v3
	find_go || cannot "$go_why"
	mkdir -p "$helm_dir" || cannot "mkdir $helm_dir failed"
	rm -rf "$helm_dir"/.build.*	# left by an interrupted build
	tmp="$(mktemp -d "$helm_dir/.build.XXXXXX")" || cannot "mktemp in $helm_dir failed"
	echo "helm.sh: building helm $XLB_HELM_VERSION with Go $gover into $helm_dir" >&2
	start=$(date +%s)
	# GOTOOLCHAIN=local: build with this toolchain or fail, never fetch
	# another one. The -X flags are those of helm's own release build.
	if ! GOBIN="$tmp" GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
		"$go" install -trimpath -ldflags "-w -s \
			-X $pkg/internal/version.version=$XLB_HELM_VERSION \
			-X $pkg/internal/version.gitTreeState=clean \
			-X $pkg/pkg/lint/rules.k8sVersionMajor=$XLB_HELM_K8S_MAJOR \
			-X $pkg/pkg/lint/rules.k8sVersionMinor=$XLB_HELM_K8S_MINOR \
			-X $pkg/pkg/chartutil.k8sVersionMajor=$XLB_HELM_K8S_MAJOR \
			-X $pkg/pkg/chartutil.k8sVersionMinor=$XLB_HELM_K8S_MINOR" \
		"$pkg/cmd/helm@$XLB_HELM_VERSION" >&2; then
		rm -rf "$tmp"
		cannot "go install $pkg/cmd/helm@$XLB_HELM_VERSION failed (see above)"
	fi
	end=$(date +%s)
	mv "$tmp/helm" "$helm_bin" && rm -rf "$tmp" || cannot "mv into $helm_bin failed"
	echo "$((end - start))" >"$helm_dir/build-seconds"
	echo "helm.sh: built $helm_bin in $((end - start)) s" >&2
}

if [ ! -x "$helm_bin" ]; then
	mkdir -p "$helm_dir" || cannot "mkdir $helm_dir failed"
	# One build at a time; a second caller waits and reuses the result.
	exec 9>"$helm_dir/.lock"
	flock 9
	[ -x "$helm_bin" ] || build_helm
	exec 9>&-
fi

if [ "${1:-}" = "--path" ]; then
	echo "$helm_bin"
	exit 0
fi
exec "$helm_bin" "$@"
