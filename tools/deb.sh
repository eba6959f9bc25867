#!/bin/bash
# Builds the Debian package of xlb for this machine's architecture:
#
#   tools/deb.sh [OUTDIR]      (default build/deb/; prints the .deb's path)
#
# The package is meson's install tree (prefix /usr, config in /etc),
# packed with dpkg-deb: the files are exactly what `meson install`
# gives a host, listed once, in meson.build, rather than a second time in
# a debian/ directory for dpkg-buildpackage and debhelper. Its Depends
# come from dpkg-shlibdeps (the libraries the binaries link), its
# conffiles are everything under /etc, its Maintainer $DEBFULLNAME
# <$DEBEMAIL>. The maintainer scripts only tell
# systemd about the unit: installing does not start xlbd (the interfaces
# in /etc/default/xlbd must be set first), an upgrade restarts a running
# one (the new xlbd adopts the pinned datapath), removing stops it.
set -eu
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/build/deb}"
bdir="$root/build/deb-build"
. "$root/tools/deps.sh"
xlb_install_deps

if [ ! -f "$bdir/build.ninja" ]; then
	meson setup "$bdir" "$root" --buildtype=release --prefix=/usr \
		--sysconfdir=/etc -Dman=enabled \
		-Dsystemdsystemunitdir=/lib/systemd/system \
		-Dbashcompletiondir=/usr/share/bash-completion/completions >&2
fi
# Only what is installed: the tests and benchmarks are not.
ninja -C "$bdir" user/xlbd user/xlbctl doc/xlbd.8 doc/xlbctl.8 \
	doc/xlb.json.5 >&2

version="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
	"$bdir/meson-info/intro-projectinfo.json")"
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/src/debian/xlb"
DESTDIR="$pkg" meson install -C "$bdir" --no-rebuild --strip --quiet >&2

# Debian's layout: man pages compressed, a copyright file.
find "$pkg/usr/share/man" -type f -exec gzip -9n {} +
doc="$pkg/usr/share/doc/xlb"
mkdir -p "$doc"
cat >"$doc/copyright" <<'C'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: xlb

Files: *
License: GPL-2.0-only or BSD-2-Clause
 On Debian systems the GPL 2 is in /usr/share/common-licenses/GPL-2 and
 the BSD licence in /usr/share/common-licenses/BSD.
C

# Depends: the packages of the shared libraries xlbd and xlbctl link
# (dpkg-shlibdeps finds the package's root by its DEBIAN directory).
mkdir -p "$pkg/DEBIAN"

printf 'Source: xlb\n\nPackage: xlb\nArchitecture: any\n' >"$stage/src/debian/control"
depends="$(cd "$stage/src" && dpkg-shlibdeps -O \
	debian/xlb/usr/sbin/xlbd debian/xlb/usr/bin/xlbctl | sed -n 's/^shlibs:Depends=//p')"

cat >"$pkg/DEBIAN/control" <<C
Package: xlb
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-xlb} <${DEBEMAIL:-xlb@localhost}>
Section: net
Priority: optional
Depends: $depends
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Description: eBPF/XDP layer-4 load balancer
 xlbd loads XDP, tc and cgroup socket programs that balance TCP and UDP
 services over backends with Maglev hashing, and keeps their maps in
 step with /etc/xlb/xlb.json (or a Kubernetes cluster's Services);
 xlbctl reads and removes the pinned datapath. The systemd unit
 xlbd.service takes its interfaces and options from /etc/default/xlbd.
C
(cd "$pkg" && find etc -type f | sed 's|^|/|' | sort) >"$pkg/DEBIAN/conffiles"

cat >"$pkg/DEBIAN/postinst" <<'S'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade: the new xlbd adopts the datapath the old one left.
	[ -z "$2" ] || systemctl try-restart xlbd.service || true
fi
S
cat >"$pkg/DEBIAN/prerm" <<'S'
#!/bin/sh
set -e
# A stop leaves the datapath attached, as always: `xlbctl detach` first
# to take it down with the package.
if [ "$1" = remove ]; then
	if [ -d /run/systemd/system ]; then
		systemctl stop xlbd.service || true
	fi
	systemctl --no-reload disable xlbd.service >/dev/null 2>&1 || true
fi
S
cat >"$pkg/DEBIAN/postrm" <<'S'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
S
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
	sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/xlb_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
