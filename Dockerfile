# The xlb image: xlbd (entrypoint) and xlbctl on Debian 12, as the Helm
# chart in helm/xlb runs it.
#
#   docker build -t REGISTRY/xlb:TAG .
#
# or without a Docker engine: tools/image.sh (buildah).
#
# The BPF programs are compiled into xlbd (libbpf skeletons), so the
# runtime stage needs only the shared libraries. The image targets the
# architecture of the build machine's kernel headers (x86-64).

FROM debian:12 AS build
WORKDIR /src
# The package list of tools/deps.sh (compilers, bpftool, libraries),
# installed first so that source changes reuse this layer.
COPY tools/deps.sh tools/deps.sh
RUN bash -c '. tools/deps.sh && xlb_install_deps' && \
	rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build && \
	meson setup build --buildtype=release && \
	ninja -C build user/xlbd user/xlbctl && \
	install -D -m 0755 build/user/xlbd /out/usr/local/bin/xlbd && \
	install -D -m 0755 build/user/xlbctl /out/usr/local/bin/xlbctl

FROM debian:12-slim
# Shared libraries of xlbd and xlbctl, and iproute2 to inspect links.
RUN apt-get update && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libbpf1 libelf1 libcjson1 libcurl4 libssl3 libyaml-0-2 \
		libmicrohttpd12 libmnl0 zlib1g iproute2 && \
	rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# Health and metrics port (xlbd --metrics-address); the chart binds it
# on the node.
EXPOSE 9477
ENTRYPOINT ["/usr/local/bin/xlbd"]
CMD ["--help"]
