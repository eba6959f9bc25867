#!/bin/bash
# Starts a throw-away etcd + kube-apiserver on 127.0.0.1 (see cluster.sh)
# and either runs a command against it or waits.
#
#   selftests/k8s-real/start.sh [--netns NS] [-- CMD [ARGS...]]
#
# With CMD: runs it with KUBECONFIG (admin), XLB_K8S_URL, XLB_K8S_CA and
# XLB_K8S_TOKEN in its environment and XLB_K8S_DRYRUN naming dryrun.py,
# then tears everything down and exits with CMD's status. For example a
# server-side dry run of rendered manifests:
#
#   start.sh -- bash -c 'helm template helm/xlb | python3 "$XLB_K8S_DRYRUN" \
#       --server "$XLB_K8S_URL" --ca "$XLB_K8S_CA" \
#       --token-file <(echo "$XLB_K8S_TOKEN") -'
#
# Without CMD: prints those variables and waits until interrupted.
# The binaries must have been built (build.sh). Exits 3 when they are
# missing, 1 when the control plane does not start.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/cluster.sh"

netns=
while [ $# -gt 0 ]; do
	case "$1" in
	--netns) netns="$2"; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--netns NS] [-- CMD [ARGS...]]" >&2; exit 2 ;;
	esac
done

if ! "$here/build.sh" --check >/dev/null 2>&1; then
	echo "error: etcd/kube-apiserver not in $XLB_K8S_BIN; run $here/build.sh" >&2
	exit 3
fi
dir="$(mktemp -d "${TMPDIR:-/tmp}/xlb-k8s.XXXXXX")" || exit 1
rmdir "$dir"
trap 'xlb_k8s_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
xlb_k8s_start "$dir" "$netns" || exit 1
export KUBECONFIG="$XLB_K8S_KUBECONFIG" XLB_K8S_URL XLB_K8S_CA XLB_K8S_TOKEN
export XLB_K8S_DRYRUN="$here/dryrun.py"
if [ $# -gt 0 ]; then
	"$@"
	exit $?
fi
echo "ready in $XLB_K8S_READY_MS ms; Ctrl-C stops"
echo "KUBECONFIG=$KUBECONFIG"
echo "XLB_K8S_URL=$XLB_K8S_URL"
echo "XLB_K8S_CA=$XLB_K8S_CA"
echo "XLB_K8S_TOKEN=$XLB_K8S_TOKEN"
while :; do
	sleep 1 &
	wait $!
done
