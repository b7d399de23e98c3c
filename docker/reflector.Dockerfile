# podmesh route reflector image: podmesh-bgpd alone, as a standalone RFC 4456
# reflector (mount a config with route-reflector: and range: peers at
# /etc/podmesh/bgpd.yaml) or in datastore mode (node-name + datastore: in
# the file; the reflector's Node resource carries its rr_cluster_id).
#	docker build -f docker/reflector.Dockerfile -t podmesh/reflector .

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential cmake pkg-config \
	libevent-dev libcurl4-openssl-dev libjansson-dev libssl-dev \
	libmnl-dev libyaml-dev libcmocka-dev \
	&& rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPODMESH_INTEGRATION=OFF \
	&& cmake --build /build -j"$(nproc)" --target podmesh-bgpd podmeshctl \
	&& install -D -s /build/bgp/podmesh-bgpd /stage/usr/bin/podmesh-bgpd \
	&& install -D -s /build/ctl/podmeshctl /stage/usr/bin/podmeshctl

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
	libevent-2.1-7 libcurl4 libjansson4 libssl3 libmnl0 \
	libyaml-0-2 ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& mkdir -p /etc/podmesh /run/podmesh
COPY --from=build /stage/usr/bin/ /usr/bin/
EXPOSE 179
ENTRYPOINT ["/usr/bin/podmesh-bgpd"]
CMD ["-c", "/etc/podmesh/bgpd.yaml"]
