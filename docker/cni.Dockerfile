# podmesh CNI image: the plugins podmesh and podmesh-ipam in /opt/cni/bin
# and /install-cni.sh, which copies them to the node (/host/opt/cni/bin),
# with the etcd TLS files and 10-podmesh.conflist (/host/etc/cni/net.d).
#	docker build -f docker/cni.Dockerfile -t podmesh/cni .

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential cmake pkg-config \
	libevent-dev libcurl4-openssl-dev libjansson-dev libssl-dev \
	libmnl-dev libyaml-dev libcmocka-dev \
	&& rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPODMESH_INTEGRATION=OFF \
	&& cmake --build /build -j"$(nproc)" --target podmesh podmesh-ipam \
	&& install -D -s /build/cni/podmesh /stage/opt/cni/bin/podmesh \
	&& install -D -s /build/cni/podmesh-ipam /stage/opt/cni/bin/podmesh-ipam

# The plugins run on the node, not in this image: they are dynamically
# linked and need the node's libraries (Debian bookworm or newer:
# libcurl4 libjansson4 libevent-2.1-7 libssl3 libmnl0).  They are
# installed here too so that `podmesh --version` runs in the image.
# jq validates the written config.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
	libcurl4 libjansson4 libevent-2.1-7 libssl3 libmnl0 jq \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /stage/opt/cni/bin/ /opt/cni/bin/
COPY docker/install-cni.sh /install-cni.sh
ENTRYPOINT ["/install-cni.sh"]
