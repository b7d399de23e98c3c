# podmesh-node image: podmesh-node (one-shot registration), podmesh-bgpd
# (datastore mode, the default), podmesh-confd + BIRD 2 (PODMESH_BGP=bird),
# podmeshctl.  Build from the top of the tree:
#	docker build -f docker/node.Dockerfile -t podmesh/node .
# The install-cni initContainer uses docker/cni.Dockerfile.

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential cmake pkg-config \
	libevent-dev libcurl4-openssl-dev libjansson-dev libssl-dev \
	libmnl-dev libyaml-dev libcmocka-dev \
	&& rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPODMESH_INTEGRATION=OFF \
	&& cmake --build /build -j"$(nproc)" \
	&& DESTDIR=/stage cmake --install /build --prefix /usr --strip

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
	libevent-2.1-7 libcurl4 libjansson4 libssl3 libmnl0 \
	libyaml-0-2 ca-certificates iproute2 bird2 \
	&& rm -rf /var/lib/apt/lists/* \
	&& mkdir -p /etc/podmesh /run/podmesh
COPY --from=build /stage/usr/bin/podmesh-node /stage/usr/bin/podmesh-bgpd \
	/stage/usr/bin/podmesh-confd /stage/usr/bin/podmeshctl /usr/bin/
COPY --from=build /stage/usr/share/podmesh/confd /usr/share/podmesh/confd
COPY --from=build /stage/usr/libexec/podmesh/node-start.sh /usr/libexec/podmesh/
# BGP; podmesh-bgpd's metrics and health server is on 127.0.0.1:9099
# (PODMESH_HTTP_ADDRESS, PODMESH_HTTP_PORT: docker/README.md)
EXPOSE 179
ENTRYPOINT ["/usr/libexec/podmesh/node-start.sh"]
