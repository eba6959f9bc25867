#!/bin/bash
# Builds the xlb container image from the Dockerfile without a Docker
# engine or a registry: buildah builds it, over a Debian 12 base made
# here by debootstrap from Debian's archive and tagged as the Dockerfile
# names it (debian:12, and debian:12-slim: the same system with dpkg
# told to leave out documentation, man pages and locales, as Debian's
# slim images are made).
#
#   tools/image.sh            builds xlb:VERSION, prints its name
#   tools/image.sh --podman ARGS...   podman on the same storage (runc)
#
# Everything lives under ${XDG_CACHE_HOME:-~/.cache}/xlb/image (the
# containers storage, the base system's tarball), nothing in the
# machine's /var/lib/containers; buildah's layer cache makes a rebuild
# after a source change redo only the steps from COPY . . on.
set -eu
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/xlb/image"
store=(--root "$cache/storage" --runroot /run/xlb-image --storage-driver overlay)
if [ "${1:-}" = --podman ]; then
	shift
	# runc: crun refuses hosts with a hybrid cgroup hierarchy.
	exec podman "${store[@]}" --runtime runc --cgroup-manager cgroupfs \
		--events-backend file "$@"
fi
need=()
for p in buildah podman debootstrap runc; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
mkdir -p "$cache"
bah() { buildah "${store[@]}" "$@"; }
version="$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$root/meson.build")"
image="localhost/xlb:$version"

# The base: debian:12 (minbase) and debian:12-slim, made once.
if ! bah inspect --type image docker.io/library/debian:12 >/dev/null 2>&1 ||
	! bah inspect --type image docker.io/library/debian:12-slim >/dev/null 2>&1; then
	tmp="$(mktemp -d "$cache/rootfs.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	if [ ! -s "$cache/debian-12.tar" ]; then
		echo "debootstrap: Debian 12 (minbase) from deb.debian.org" >&2
		debootstrap --variant=minbase bookworm "$tmp/fs" http://deb.debian.org/debian >&2
		# What the official image gives: its sources, no apt caches.
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			>"$tmp/fs/etc/apt/sources.list.d/debian.sources"
		rm -f "$tmp/fs/etc/apt/sources.list"
		rm -rf "$tmp/fs/var/lib/apt/lists/"* "$tmp/fs/var/cache/apt/"*.bin \
			"$tmp/fs/var/cache/apt/archives/"*.deb
		tar -C "$tmp/fs" --numeric-owner -cf "$cache/debian-12.tar" .
		rm -rf "$tmp/fs"
	fi
	podman "${store[@]}" import --change 'CMD ["bash"]' "$cache/debian-12.tar" \
		docker.io/library/debian:12 >&2
	mkdir "$tmp/slim"
	tar -C "$tmp/slim" -xf "$cache/debian-12.tar"
	cat >"$tmp/slim/etc/dpkg/dpkg.cfg.d/docker-slim" <<'C'
# Debian's slim images: no documentation, man pages or locales.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
C
	find "$tmp/slim/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
	find "$tmp/slim/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$tmp/slim/usr/share/man/"* "$tmp/slim/usr/share/info/"*
	find "$tmp/slim/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
	tar -C "$tmp/slim" --numeric-owner -c . |
		podman "${store[@]}" import --change 'CMD ["bash"]' - \
			docker.io/library/debian:12-slim >&2
fi

# The image, as `docker build` would build it.
bah bud --layers --pull=never --isolation chroot -t "$image" \
	-f "$root/Dockerfile" "$root" >&2
echo "$image"
