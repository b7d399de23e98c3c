#!/usr/bin/env python3
"""A tiny passive BGP speaker that records every UPDATE body it receives.

Used by capture-updates.sh to collect real UPDATEs from BIRD and GoBGP for
tests/unit/update_test.c.  It accepts connections on [::]:179 (IPv4 ones
too), answers OPEN with its own (MP IPv4 and IPv6 unicast, 4-octet AS,
route refresh, optionally ADD-PATH receive), confirms with KEEPALIVE, keeps
the session up with KEEPALIVEs and appends each UPDATE body (the message
after its 19-byte header) as one hex line to the output file.  It exits
after --seconds, or once --eors End-of-RIB markers (or --updates UPDATEs)
have arrived.
"""
import argparse
import socket
import struct
import sys
import threading
import time

MARKER = b"\xff" * 16
lock = threading.Lock()
eors = 0
updates = 0


def msg(mtype, body):
    return MARKER + struct.pack("!HB", 19 + len(body), mtype) + body


def capability(code, value):
    return struct.pack("!BB", code, len(value)) + value


def open_msg(asn, bgpid, addpath):
    caps = capability(1, struct.pack("!HBB", 1, 0, 1))
    caps += capability(1, struct.pack("!HBB", 2, 0, 1))
    caps += capability(2, b"")
    caps += capability(65, struct.pack("!I", asn))
    if addpath:
        caps += capability(69, struct.pack("!HBBHBB", 1, 1, 1, 2, 1, 1))
    opt = struct.pack("!BB", 2, len(caps)) + caps
    as2 = asn if asn < 65536 else 23456
    body = struct.pack("!BHH4sB", 4, as2, 90, socket.inet_aton(bgpid),
                       len(opt)) + opt
    return msg(1, body)


def read_msg(sock):
    hdr = b""
    while len(hdr) < 19:
        chunk = sock.recv(19 - len(hdr))
        if not chunk:
            return None, None
        hdr += chunk
    length, mtype = struct.unpack("!HB", hdr[16:19])
    body = b""
    while len(body) < length - 19:
        chunk = sock.recv(length - 19 - len(body))
        if not chunk:
            return None, None
        body += chunk
    return mtype, body


def is_eor(body):
    if body == b"\x00\x00\x00\x00":
        return True
    # only an empty MP_UNREACH_NLRI
    return (len(body) == 10 and body[:4] == b"\x00\x00\x00\x06" and
            body[5] == 15 and body[6] == 3)


def serve(conn, args, out):
    global eors, updates
    conn.settimeout(1.0)
    sent_open = False
    last_ka = 0
    while True:
        if sent_open and time.time() - last_ka > 10:
            conn.sendall(msg(4, b""))
            last_ka = time.time()
        try:
            mtype, body = read_msg(conn)
        except socket.timeout:
            continue
        except OSError:
            return
        if mtype is None:
            return
        if mtype == 1 and not sent_open:
            conn.sendall(open_msg(args.asn, args.id, args.addpath))
            conn.sendall(msg(4, b""))
            sent_open = True
            last_ka = time.time()
        elif mtype == 2:
            with lock:
                out.write(body.hex() + "\n")
                out.flush()
                updates += 1
                if is_eor(body):
                    eors += 1
        elif mtype == 3:
            sys.stderr.write("NOTIFICATION %s\n" % body.hex())
            return


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--asn", type=int, default=65002)
    p.add_argument("--id", default="192.0.2.2")
    p.add_argument("--addpath", action="store_true")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--eors", type=int, default=0)
    p.add_argument("--updates", type=int, default=0)
    p.add_argument("--port", type=int, default=179)
    p.add_argument("out")
    args = p.parse_args()

    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", args.port))
    ls.listen(8)
    ls.settimeout(0.5)
    deadline = time.time() + args.seconds
    with open(args.out, "a") as out:
        while time.time() < deadline:
            if ((args.eors and eors >= args.eors) or
                    (args.updates and updates >= args.updates)):
                # let late messages in flight arrive
                time.sleep(1)
                break
            try:
                conn, _ = ls.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve, args=(conn, args, out),
                             daemon=True).start()
    done = ((not args.eors or eors >= args.eors) and
            (not args.updates or updates >= args.updates))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
