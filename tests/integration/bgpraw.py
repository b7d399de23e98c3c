#!/usr/bin/env python3
"""bgpraw: a raw BGP-4 speaker for negative tests.

Builds any message byte by byte (RFC 4271 §4: header, OPEN, UPDATE,
KEEPALIVE, NOTIFICATION; RFC 5492 capabilities; RFC 4760 MP_REACH_NLRI;
RFC 6793 4-octet AS_PATH), including wrong ones: bad marker, wrong length
field, unknown type, bad attribute flags or lengths.  Sends them to a BGP
speaker and decodes what comes back, so a test can assert the NOTIFICATION
code, subcode and data (RFC 4271 §6) or that the session stayed up
(RFC 7606 treat-as-withdraw).

Library: msg(), open_body(), update_body(), attr(), ... and Speaker.
Command line (every subcommand prints one result line, exits 0/1):

  bgpraw.py build update --origin 0 --as-path 65001 --next-hop 192.0.2.2 \\
      --nlri 198.18.5.0/24                 # message as hex on stdout
  bgpraw.py probe --peer 192.0.2.1 --as 65001 --id 192.0.2.2 \\
      --stage open --send HEX --expect 1/2 --expect-data 0012
  bgpraw.py session --peer 192.0.2.1 --as 65001 --id 192.0.2.2 --ctl SOCK
      # stays Established, answers KEEPALIVEs, obeys `ctl` commands
  bgpraw.py ctl SOCK status|send HEX|alive SECS|rib|notification SECS|quit
  bgpraw.py selftest                       # offline encode/decode checks

Only python3's standard library; runs inside a test network namespace.
"""

import argparse
import json
import os
import select
import shlex
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16
HDR_LEN = 19
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, RREFRESH = 1, 2, 3, 4, 5
TYPE_NAMES = {OPEN: "OPEN", UPDATE: "UPDATE", NOTIFICATION: "NOTIFICATION",
              KEEPALIVE: "KEEPALIVE", RREFRESH: "ROUTE-REFRESH"}

# attribute flags and types, RFC 4271 §4.3
F_OPT, F_TRANS, F_PARTIAL, F_EXTLEN = 0x80, 0x40, 0x20, 0x10
A_ORIGIN, A_ASPATH, A_NEXTHOP, A_MED, A_LOCALPREF = 1, 2, 3, 4, 5
A_ATOMIC, A_AGGREGATOR, A_COMMUNITIES = 6, 7, 8
A_MP_REACH, A_MP_UNREACH = 14, 15
ATTR_NAMES = {1: "origin", 2: "as_path", 3: "next_hop", 4: "med",
              5: "local_pref", 6: "atomic_aggregate", 7: "aggregator",
              8: "communities", 9: "originator_id", 10: "cluster_list",
              14: "mp_reach", 15: "mp_unreach", 16: "ext_communities",
              17: "as4_path", 18: "as4_aggregator", 32: "large_communities"}

CODES = {1: "message header error", 2: "OPEN message error",
         3: "UPDATE message error", 4: "hold timer expired",
         5: "finite state machine error", 6: "cease",
         7: "ROUTE-REFRESH message error"}
SUBCODES = {
    (1, 1): "connection not synchronized", (1, 2): "bad message length",
    (1, 3): "bad message type", (2, 1): "unsupported version number",
    (2, 2): "bad peer AS", (2, 3): "bad BGP identifier",
    (2, 4): "unsupported optional parameter",
    (2, 6): "unacceptable hold time", (2, 7): "unsupported capability",
    (3, 1): "malformed attribute list",
    (3, 2): "unrecognized well-known attribute",
    (3, 3): "missing well-known attribute",
    (3, 4): "attribute flags error", (3, 5): "attribute length error",
    (3, 6): "invalid ORIGIN attribute", (3, 8): "invalid NEXT_HOP attribute",
    (3, 9): "optional attribute error", (3, 10): "invalid network field",
    (3, 11): "malformed AS_PATH", (5, 1): "unexpected message in OpenSent",
    (5, 2): "unexpected message in OpenConfirm",
    (5, 3): "unexpected message in Established",
    (6, 2): "administrative shutdown", (6, 4): "administrative reset",
    (6, 5): "connection rejected",
    (6, 7): "connection collision resolution",
}


class BgpError(Exception):
    """A usage or decoding error of this tool (not of the peer)."""


def describe(code, subcode):
    c = CODES.get(code, "code %d" % code)
    s = SUBCODES.get((code, subcode), "subcode %d" % subcode)
    return "%s / %s" % (c, s)


# ---------------------------------------------------------------------------
# Encoding

def msg(mtype, body=b"", marker=None, length=None, pad=0):
    """A whole message.  length overrides the length field (whatever the
    real size); pad appends zero octets after the body."""
    body = bytes(body) + b"\x00" * pad
    if length is None:
        length = HDR_LEN + len(body)
    m = MARKER if marker is None else bytes(marker)
    return m + struct.pack("!HB", length & 0xffff, mtype & 0xff) + body


def ip4(addr):
    return socket.inet_pton(socket.AF_INET, addr)


def ip_any(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_pton(fam, addr)


def ip4_int(addr):
    return struct.unpack("!I", ip4(addr))[0]


def cap(code, value=b""):
    return struct.pack("!BB", code, len(value)) + bytes(value)


def cap_mp(afi, safi=1):
    return cap(1, struct.pack("!HBB", afi, 0, safi))


def cap_as4(asn):
    return cap(65, struct.pack("!I", asn))


def default_caps(asn, families=("ipv4",)):
    """MP for each family, route refresh, 4-octet AS (RFC 6793)."""
    out = b""
    for f in families:
        out += cap_mp(1 if f == "ipv4" else 2, 1)
    return out + cap(2) + cap_as4(asn)


def open_body(asn, hold, bgpid, version=4, caps=None, params=None,
              as2=None, optlen=None):
    """OPEN body, RFC 4271 §4.2.  caps: capability TLVs for one
    Capabilities parameter (RFC 5492), None for the defaults, b"" for none.
    params: extra (type, value) optional parameters after it."""
    if caps is None:
        caps = default_caps(asn)
    opts = b""
    if caps:
        opts += struct.pack("!BB", 2, len(caps)) + caps
    for ptype, pval in params or []:
        opts += struct.pack("!BB", ptype, len(pval)) + pval
    if as2 is None:
        as2 = asn if asn <= 0xffff else 23456
    bid = ip4_int(bgpid) if isinstance(bgpid, str) else bgpid
    n = len(opts) if optlen is None else optlen
    return struct.pack("!BHHIB", version, as2, hold, bid, n) + opts


def attr(flags, atype, value, length=None):
    """One path attribute; length overrides the length field."""
    value = bytes(value)
    n = len(value) if length is None else length
    if flags & F_EXTLEN:
        return struct.pack("!BBH", flags, atype, n) + value
    return struct.pack("!BBB", flags, atype, n & 0xff) + value


def aspath_value(asns, as4=True, seg_type=2):
    """One AS_SEQUENCE (or seg_type) segment; empty list = empty path."""
    if not asns:
        return b""
    fmt = "!I" if as4 else "!H"
    return struct.pack("!BB", seg_type, len(asns)) + b"".join(
        struct.pack(fmt, a) for a in asns)


def prefix(p):
    """'198.18.5.0/24' -> length octet + significant octets.  A length
    beyond the family's (198.18.5.0/33) is encoded as given, padded with
    zero octets, so invalid network fields can be built."""
    a, plen = p.split("/")
    plen = int(plen)
    raw = ip_any(a)
    n = (plen + 7) // 8
    raw = (raw + b"\x00" * n)[:n]
    return bytes([plen & 0xff]) + raw


def mp_reach_value(afi, safi, nexthop, prefixes):
    nh = ip_any(nexthop) if nexthop else b""
    return (struct.pack("!HBB", afi, safi, len(nh)) + nh + b"\x00" +
            b"".join(prefix(p) for p in prefixes))


def update_body(withdrawn=b"", attrs=b"", nlri=b"", wlen=None, alen=None):
    """UPDATE body, RFC 4271 §4.3; wlen / alen override the two length
    fields."""
    w = len(withdrawn) if wlen is None else wlen
    a = len(attrs) if alen is None else alen
    return (struct.pack("!H", w) + withdrawn + struct.pack("!H", a) +
            attrs + nlri)


def notification_body(code, subcode, data=b""):
    return struct.pack("!BB", code, subcode) + bytes(data)


# ---------------------------------------------------------------------------
# Decoding

def split_messages(buf):
    """Whole messages at the front of buf: ([(type, body)], rest).  Only
    the length field frames; the peer is trusted to send good headers."""
    out = []
    while len(buf) >= HDR_LEN:
        length, mtype = struct.unpack("!HB", buf[16:19])
        if length < HDR_LEN:
            raise BgpError("peer sent a header with length %d" % length)
        if len(buf) < length:
            break
        out.append((mtype, buf[HDR_LEN:length]))
        buf = buf[length:]
    return out, buf


def parse_notification(body):
    if len(body) < 2:
        return {"code": 0, "subcode": 0, "data": body.hex(), "short": True}
    return {"code": body[0], "subcode": body[1], "data": body[2:].hex(),
            "text": describe(body[0], body[1])}


def parse_open(body):
    if len(body) < 10:
        raise BgpError("short OPEN from the peer")
    ver, as2, hold, bid, optlen = struct.unpack("!BHHIB", body[:10])
    caps = []
    opts = body[10:10 + optlen]
    while len(opts) >= 2:
        ptype, plen = opts[0], opts[1]
        pval = opts[2:2 + plen]
        opts = opts[2 + plen:]
        while ptype == 2 and len(pval) >= 2:
            caps.append((pval[0], pval[2:2 + pval[1]].hex()))
            pval = pval[2 + pval[1]:]
    asn = as2
    for c, v in caps:
        if c == 65 and len(v) == 8:
            asn = int(v, 16)
    return {"version": ver, "as": asn, "hold": hold,
            "id": socket.inet_ntop(socket.AF_INET, struct.pack("!I", bid)),
            "caps": [c for c, _ in caps]}


def parse_prefixes(buf, fam):
    out, alen = [], 4 if fam == socket.AF_INET else 16
    while buf:
        plen = buf[0]
        n = (plen + 7) // 8
        raw = (buf[1:1 + n] + b"\x00" * alen)[:alen]
        out.append("%s/%d" % (socket.inet_ntop(fam, raw), plen))
        buf = buf[1 + n:]
    return out


def parse_update(body, as4=True):
    """A well-formed UPDATE from the peer: withdrawn and announced prefixes
    (classic and MP) and the attributes by name."""
    wlen = struct.unpack("!H", body[:2])[0]
    wd = parse_prefixes(body[2:2 + wlen], socket.AF_INET)
    pos = 2 + wlen
    alen = struct.unpack("!H", body[pos:pos + 2])[0]
    ab = body[pos + 2:pos + 2 + alen]
    ann = parse_prefixes(body[pos + 2 + alen:], socket.AF_INET)
    attrs = {}
    while ab:
        flags, atype = ab[0], ab[1]
        if flags & F_EXTLEN:
            alen, hl = struct.unpack("!H", ab[2:4])[0], 4
        else:
            alen, hl = ab[2], 3
        val = ab[hl:hl + alen]
        ab = ab[hl + alen:]
        name = ATTR_NAMES.get(atype, "attr%d" % atype)
        if atype == A_ORIGIN and len(val) == 1:
            attrs[name] = val[0]
        elif atype == A_ASPATH:
            path, asz = [], 4 if as4 else 2
            while len(val) >= 2:
                cnt = val[1]
                seg = val[2:2 + cnt * asz]
                path += [int.from_bytes(seg[i:i + asz], "big")
                         for i in range(0, len(seg), asz)]
                val = val[2 + cnt * asz:]
            attrs[name] = path
        elif atype == A_NEXTHOP and len(val) == 4:
            attrs[name] = socket.inet_ntop(socket.AF_INET, val)
        elif atype in (A_MED, A_LOCALPREF) and len(val) == 4:
            attrs[name] = struct.unpack("!I", val)[0]
        elif atype in (A_MP_REACH, A_MP_UNREACH) and len(val) >= 3:
            afi = struct.unpack("!H", val[:2])[0]
            fam = socket.AF_INET6 if afi == 2 else socket.AF_INET
            if atype == A_MP_REACH:
                nhl = val[3]
                nh = val[4:4 + nhl]
                if len(nh) in (4, 16, 32):
                    # global address first (RFC 2545 §3)
                    attrs["next_hop"] = socket.inet_ntop(
                        fam, nh[:16] if len(nh) == 32 else nh)
                ann += parse_prefixes(val[5 + nhl:], fam)
            else:
                wd += parse_prefixes(val[3:], fam)
        else:
            attrs[name] = val.hex()
    return {"withdrawn": wd, "announced": ann, "attrs": attrs}


# ---------------------------------------------------------------------------
# The connection

class Closed(Exception):
    """The peer closed the connection (reason: 'eof' or an errno text)."""


class Speaker:
    """One TCP connection to a BGP speaker, read message by message."""

    def __init__(self, peer, port=179, source=None, timeout=10.0):
        self.peer, self.port, self.source = peer, port, source
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.pending = []
        self.peer_open = None
        self.hold = 0
        self.as4 = True
        self.established = False

    def _socket(self):
        fam = socket.AF_INET6 if ":" in self.peer else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.source:
            s.bind((self.source, 0))
        s.settimeout(self.timeout)
        return s

    def connect(self):
        """Connects, retrying while the daemon is not listening yet."""
        deadline = time.monotonic() + self.timeout
        while True:
            s = self._socket()
            try:
                s.connect((self.peer, self.port))
                break
            except OSError as e:
                s.close()
                if time.monotonic() >= deadline:
                    raise Closed("connect: %s" % e)
                time.sleep(0.2)
        self.sock = s

    def send(self, data):
        self.sock.sendall(data)

    def feed(self):
        """Reads what is there (the socket is readable); raises Closed."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            raise Closed("connection reset")
        except OSError as e:
            raise Closed(str(e))
        if not data:
            raise Closed("eof")
        self.buf += data
        msgs, self.buf = split_messages(self.buf)
        self.pending += msgs

    def recv(self, timeout=None):
        """Next (type, body), None on timeout; raises Closed."""
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                self.feed()
        return self.pending.pop(0)

    def expect(self, mtype, timeout=None):
        m = self.recv(timeout)
        if m is None:
            raise BgpError("no %s from the peer within %ss" % (
                TYPE_NAMES[mtype], timeout or self.timeout))
        if m[0] == NOTIFICATION:
            n = parse_notification(m[1])
            raise BgpError("expected %s, got NOTIFICATION %d/%d (%s) "
                           "data=%s" % (TYPE_NAMES[mtype], n["code"],
                                        n["subcode"], n.get("text"),
                                        n["data"]))
        if m[0] != mtype:
            raise BgpError("expected %s, got message type %d" %
                           (TYPE_NAMES[mtype], m[0]))
        return m[1]

    def read_open(self):
        self.peer_open = parse_open(self.expect(OPEN))
        return self.peer_open

    def establish(self, asn, bgpid, hold=90, caps=None):
        """OPEN both ways, KEEPALIVE both ways: Established."""
        self.send(msg(OPEN, open_body(asn, hold, bgpid, caps=caps)))
        po = self.read_open()
        self.hold = min(hold, po["hold"])
        self.as4 = 65 in po["caps"]
        self.send(msg(KEEPALIVE))
        self.expect(KEEPALIVE)
        self.established = True

    def wait_notification(self, timeout):
        """What ends the connection within timeout: ('notification', dict),
        ('closed', reason) or ('timeout', None).  Other messages are
        skipped; KEEPALIVEs are answered so the session is not the one to
        time out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = self.recv(max(0.0, deadline - time.monotonic()))
            except Closed as e:
                return "closed", str(e)
            if m is None:
                return "timeout", None
            if m[0] == NOTIFICATION:
                return "notification", parse_notification(m[1])
            if m[0] == KEEPALIVE and self.established:
                try:
                    self.send(msg(KEEPALIVE))
                except OSError as e:
                    return "closed", str(e)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# ---------------------------------------------------------------------------
# build

def _u(s):
    return int(s, 0)


def _hex(s):
    return bytes.fromhex(s.replace(":", "").replace(" ", ""))


class _Ordered(argparse.Action):
    """Keeps attribute options in command-line order in ns.attrs."""

    def __call__(self, parser, ns, values, option_string=None):
        lst = getattr(ns, "attrs", None) or []
        lst.append((self.dest, values))
        ns.attrs = lst


def _build_attr(kind, v, as4):
    if kind == "origin":
        return attr(F_TRANS, A_ORIGIN, bytes([_u(v) & 0xff]))
    if kind == "as_path":
        return attr(F_TRANS, A_ASPATH,
                    aspath_value([_u(a) for a in v.split()], as4))
    if kind == "next_hop":
        return attr(F_TRANS, A_NEXTHOP, ip4(v))
    if kind == "med":
        return attr(F_OPT, A_MED, struct.pack("!I", _u(v)))
    if kind == "local_pref":
        return attr(F_TRANS, A_LOCALPREF, struct.pack("!I", _u(v)))
    if kind == "communities":
        val = b""
        for c in v.split():
            hi, lo = c.split(":")
            val += struct.pack("!HH", int(hi), int(lo))
        return attr(F_OPT | F_TRANS, A_COMMUNITIES, val)
    if kind == "mp_reach":
        # "AFI SAFI NEXTHOP [PREFIX...]", NEXTHOP "-" for none
        w = v.split()
        if len(w) < 3:
            raise BgpError("--mp-reach wants 'AFI SAFI NEXTHOP PFX...'")
        val = mp_reach_value(_u(w[0]), _u(w[1]), None if w[2] == "-"
                             else w[2], w[3:])
        return attr(F_OPT | F_EXTLEN, A_MP_REACH, val)
    if kind == "attr":
        # FLAGS:TYPE:HEXVALUE[:LENGTH]
        parts = v.split(":")
        if len(parts) not in (3, 4):
            raise BgpError("--attr wants FLAGS:TYPE:HEX[:LENGTH], got %s" % v)
        length = _u(parts[3]) if len(parts) == 4 else None
        return attr(_u(parts[0]), _u(parts[1]), _hex(parts[2]), length)
    raise BgpError("unknown attribute kind %s" % kind)


def build_message(a):
    """The message the `build` arguments describe, as bytes."""
    if a.what == "keepalive":
        body = b""
        mtype = KEEPALIVE
    elif a.what == "open":
        caps = b"" if a.no_caps else None
        if a.cap:
            caps = (caps if caps is not None else default_caps(a.asn)) + \
                b"".join(cap(_u(c.split(":")[0]), _hex(c.split(":")[1]))
                         for c in a.cap)
        params = [(_u(p.split(":")[0]), _hex(p.split(":")[1]))
                  for p in a.param or []]
        body = open_body(a.asn, a.hold, a.id, version=a.version, caps=caps,
                         params=params, as2=a.as2, optlen=a.optlen)
        mtype = OPEN
    elif a.what == "update":
        attrs = b"".join(_build_attr(k, v, not a.as2_path)
                         for k, v in (getattr(a, "attrs", None) or []))
        body = update_body(
            withdrawn=b"".join(prefix(p) for p in a.withdraw or []),
            attrs=attrs, nlri=b"".join(prefix(p) for p in a.nlri or []),
            wlen=a.wlen, alen=a.alen)
        mtype = UPDATE
    elif a.what == "notification":
        body = notification_body(a.code, a.subcode, _hex(a.data))
        mtype = NOTIFICATION
    else:
        body = _hex(a.body)
        mtype = a.msgtype
    if a.type is not None:
        mtype = a.type
    if a.truncate is not None:
        body = body[:a.truncate]
    if a.append:
        body += _hex(a.append)
    return msg(mtype, body, marker=_hex(a.marker) if a.marker else None,
               length=a.length, pad=a.pad)


def add_build_args(sub):
    p = sub.add_parser("build", help="print a message as hex")
    p.add_argument("what", choices=["open", "update", "keepalive",
                                    "notification", "raw"])
    g = p.add_argument_group("header")
    g.add_argument("--marker", help="16 octets of marker, hex")
    g.add_argument("--length", type=_u, help="length field")
    g.add_argument("--type", type=_u, help="type field")
    g.add_argument("--pad", type=_u, default=0, help="zero octets appended")
    g.add_argument("--truncate", type=_u, help="cut the body to N octets")
    g.add_argument("--append", help="hex octets appended to the body")
    g = p.add_argument_group("open")
    g.add_argument("--as", dest="asn", type=_u, default=65001)
    g.add_argument("--as2", type=_u, help="My Autonomous System field")
    g.add_argument("--hold", type=_u, default=90)
    g.add_argument("--id", default="192.0.2.2", help="BGP identifier")
    g.add_argument("--version", type=_u, default=4)
    g.add_argument("--no-caps", action="store_true")
    g.add_argument("--cap", action="append", help="CODE:HEX, added")
    g.add_argument("--param", action="append",
                   help="TYPE:HEX optional parameter, added")
    g.add_argument("--optlen", type=_u, help="Opt Parm Len field")
    g = p.add_argument_group("update (attributes in the order given)")
    for opt in ("origin", "as-path", "next-hop", "med", "local-pref",
                "communities", "mp-reach", "attr"):
        g.add_argument("--" + opt, dest=opt.replace("-", "_"),
                       action=_Ordered)
    g.add_argument("--as2-path", action="store_true",
                   help="2-octet ASNs in AS_PATH (no AS4 session)")
    g.add_argument("--nlri", action="append", help="prefix, repeatable")
    g.add_argument("--withdraw", action="append", help="prefix, repeatable")
    g.add_argument("--wlen", type=_u, help="withdrawn routes length field")
    g.add_argument("--alen", type=_u, help="total path attribute length")
    g = p.add_argument_group("notification / raw")
    g.add_argument("--code", type=_u, default=6)
    g.add_argument("--subcode", type=_u, default=0)
    g.add_argument("--data", default="")
    g.add_argument("--msgtype", type=_u, default=KEEPALIVE)
    g.add_argument("--body", default="")
    p.set_defaults(func=cmd_build)


def cmd_build(a):
    print(build_message(a).hex())
    return 0


# ---------------------------------------------------------------------------
# probe: one connection, one bad input, one verdict

def _result(kind, detail):
    if kind == "notification":
        return "NOTIFICATION %d/%d (%s) data=%s" % (
            detail["code"], detail["subcode"], detail.get("text", "?"),
            detail["data"] or "none")
    if kind == "closed":
        return "connection closed without NOTIFICATION (%s)" % detail
    return "no NOTIFICATION and no close"


def cmd_probe(a):
    sp = Speaker(a.peer, a.port, a.source, a.timeout)
    try:
        sp.connect()
        if a.stage == "open":
            po = sp.read_open()
            log("peer OPEN: AS %d, hold %d, id %s" % (po["as"], po["hold"],
                                                       po["id"]))
        elif a.stage == "established":
            sp.establish(a.asn, a.id, a.hold)
            log("Established with %s (hold %d)" % (a.peer, sp.hold))
    except (Closed, BgpError) as e:
        print("bgpraw: FAIL: before sending: %s" % e)
        return 1
    msgs = [_hex(h) for h in a.send or []]
    msgs += [build_message(build_parser().parse_args(
        ["build"] + shlex.split(b))) for b in a.build or []]
    if not msgs:
        if a.linger:
            # a good session: nothing may end it for a while
            kind, detail = sp.wait_notification(a.linger)
            sp.close()
            if kind != "timeout":
                print("bgpraw: FAIL: Established, then %s" %
                      _result(kind, detail))
                return 1
        print("bgpraw: ok: %s" % ("Established" if a.stage == "established"
                                  else "connected"))
        return 0
    for m in msgs:
        try:
            sp.send(m)
        except OSError as e:
            print("bgpraw: FAIL: send: %s" % e)
            return 1
        time.sleep(a.gap)
    kind, detail = sp.wait_notification(a.timeout)
    sp.close()
    res = _result(kind, detail)
    if a.json:
        print(json.dumps({"result": kind, "notification": detail
                          if kind == "notification" else None}))
    if a.expect is None:
        print("bgpraw: %s" % res)
        return 0
    if a.expect == "none":
        ok = kind == "timeout"
    elif a.expect == "close":
        ok = kind in ("closed", "notification")
    else:
        code, sub = (int(x) for x in a.expect.split("/"))
        ok = (kind == "notification" and detail["code"] == code and
              detail["subcode"] == sub)
        if ok and a.expect_data is not None:
            ok = detail["data"] == a.expect_data.lower()
    want = a.expect + ("" if a.expect_data is None
                       else " data=" + (a.expect_data or "none"))
    print("bgpraw: %s: expected %s, got %s" % ("ok" if ok else "FAIL", want,
                                               res))
    return 0 if ok else 1


def add_conn_args(p):
    p.add_argument("--peer", required=True)
    p.add_argument("--port", type=_u, default=179)
    p.add_argument("--source", help="local address to bind")
    p.add_argument("--as", dest="asn", type=_u, default=65001)
    p.add_argument("--id", default="192.0.2.2")
    p.add_argument("--hold", type=_u, default=90)
    p.add_argument("--timeout", type=float, default=10.0)


def add_probe_args(sub):
    p = sub.add_parser("probe", help="connect, send, judge the answer")
    add_conn_args(p)
    p.add_argument("--stage", default="open",
                   choices=["tcp", "open", "established"],
                   help="tcp: send right after connecting; open: after the "
                   "peer's OPEN; established: after OPEN and KEEPALIVE "
                   "both ways")
    p.add_argument("--send", action="append", help="hex, repeatable")
    p.add_argument("--build", action="append",
                   help="`build` arguments as one string, repeatable")
    p.add_argument("--linger", type=float, default=0,
                   help="with nothing to send: stay this long, fail on a "
                   "NOTIFICATION or close")
    p.add_argument("--gap", type=float, default=0.05,
                   help="seconds between --send messages")
    p.add_argument("--expect", help="CODE/SUBCODE, 'none' (nothing within "
                   "--timeout) or 'close'")
    p.add_argument("--expect-data", help="NOTIFICATION data, hex")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_probe)


# ---------------------------------------------------------------------------
# session: a long-lived peer driven through a UNIX control socket

class SessionDaemon:
    def __init__(self, a):
        self.a = a
        self.sp = Speaker(a.peer, a.port, a.source, a.timeout)
        self.state = "Connecting"
        self.notification = None
        self.closed_reason = None
        self.kal_rx = 0
        self.upd_rx = 0
        self.kal_tx = 0
        self.rib = {}
        self.started = time.monotonic()

    def on_message(self, mtype, body):
        if mtype == KEEPALIVE:
            self.kal_rx += 1
        elif mtype == UPDATE:
            self.upd_rx += 1
            try:
                u = parse_update(body, self.sp.as4)
            except (BgpError, struct.error, IndexError, ValueError) as e:
                log("cannot decode an UPDATE from the peer: %s" % e)
                return
            for p in u["withdrawn"]:
                self.rib.pop(p, None)
            for p in u["announced"]:
                self.rib[p] = u["attrs"]
        elif mtype == NOTIFICATION:
            self.notification = parse_notification(body)
            log("received NOTIFICATION %d/%d (%s) data=%s" % (
                self.notification["code"], self.notification["subcode"],
                self.notification.get("text"), self.notification["data"]))

    def status(self):
        return {"state": self.state, "notification": self.notification,
                "closed": self.closed_reason, "keepalives_rx": self.kal_rx,
                "keepalives_tx": self.kal_tx, "updates_rx": self.upd_rx,
                "hold": self.sp.hold,
                "uptime": round(time.monotonic() - self.started, 2)}

    def command(self, line):
        words = line.split()
        if not words:
            return {"error": "empty command"}
        if words[0] == "status":
            return self.status()
        if words[0] == "rib":
            return self.rib
        if words[0] == "send":
            if self.state != "Established":
                return {"error": "session is %s" % self.state}
            try:
                self.sp.send(_hex("".join(words[1:])))
            except (OSError, ValueError) as e:
                return {"error": str(e)}
            return {"ok": True}
        if words[0] == "quit":
            self.running = False
            return {"ok": True}
        return {"error": "unknown command %s" % words[0]}

    def run(self):
        a = self.a
        try:
            self.sp.connect()
            self.sp.establish(a.asn, a.id, a.hold)
        except (Closed, BgpError) as e:
            print("bgpraw session: FAIL: %s" % e, file=sys.stderr)
            return 1
        self.state = "Established"
        log("session Established with %s (hold %d)" % (a.peer, self.sp.hold))
        if os.path.exists(a.ctl):
            os.unlink(a.ctl)
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.bind(a.ctl)
        ctl.listen(8)
        ka_every = self.sp.hold / 3.0 if self.sp.hold else 0
        next_ka = time.monotonic() + ka_every
        self.running = True
        # messages that came in with the peer's KEEPALIVE
        for m in self.sp.pending:
            self.on_message(*m)
        self.sp.pending = []
        while self.running:
            rl = [ctl] + ([self.sp.sock] if self.state == "Established"
                          else [])
            wait = 1.0
            if self.state == "Established" and ka_every:
                wait = max(0.0, min(wait, next_ka - time.monotonic()))
            r, _, _ = select.select(rl, [], [], wait)
            if self.sp.sock in r and self.state == "Established":
                try:
                    self.sp.feed()
                except (Closed, BgpError) as e:
                    self.state = "Closed"
                    self.closed_reason = str(e)
                    log("connection closed: %s" % e)
                for m in self.sp.pending:
                    self.on_message(*m)
                self.sp.pending = []
                if self.notification is not None:
                    self.state = "Closed"
            if ctl in r:
                c, _ = ctl.accept()
                c.settimeout(5)
                try:
                    line = c.makefile("r").readline()
                    c.sendall((json.dumps(self.command(line)) +
                               "\n").encode())
                except OSError:
                    pass
                c.close()
            if (self.state == "Established" and ka_every and
                    time.monotonic() >= next_ka):
                try:
                    self.sp.send(msg(KEEPALIVE))
                    self.kal_tx += 1
                except OSError as e:
                    self.state = "Closed"
                    self.closed_reason = str(e)
                next_ka = time.monotonic() + ka_every
        ctl.close()
        os.unlink(a.ctl)
        self.sp.close()
        return 0


def add_session_args(sub):
    p = sub.add_parser("session", help="stay Established, obey ctl")
    add_conn_args(p)
    p.add_argument("--ctl", required=True, help="UNIX control socket path")
    p.set_defaults(func=lambda a: SessionDaemon(a).run())


def ctl_request(path, line, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall((line + "\n").encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data.decode())


def ctl_wait_rib(sock, words):
    """wait-rib PREFIX present|absent SECS [+ATTR|-ATTR...]: what the
    session has received from the peer comes to match."""
    if len(words) < 3 or words[1] not in ("present", "absent"):
        raise BgpError("wait-rib PREFIX present|absent SECS [+ATTR|-ATTR]")
    pfx, want, secs, conds = words[0], words[1], float(words[2]), words[3:]
    deadline = time.monotonic() + secs
    while True:
        rib = ctl_request(sock, "rib")
        if want == "absent":
            ok = pfx not in rib
        else:
            attrs = rib.get(pfx)
            ok = attrs is not None and all(
                (c[1:] in attrs) == (c[0] == "+") for c in conds)
        if ok:
            print("bgpraw: ok: %s %s %s" % (pfx, want, " ".join(conds)))
            return 0
        if time.monotonic() >= deadline:
            print("bgpraw: FAIL: %s not %s %s within %.1fs; held: %s" % (
                pfx, want, " ".join(conds), secs,
                json.dumps(rib.get(pfx), sort_keys=True)))
            return 1
        time.sleep(0.1)


def cmd_ctl(a):
    words = a.words
    if not words:
        raise BgpError("ctl: no command")
    try:
        if words[0] == "alive":
            # RFC 7606 treat-as-withdraw: no NOTIFICATION, and the peer's
            # KEEPALIVEs keep coming for at least SECS seconds
            secs = float(words[1]) if len(words) > 1 else 4.0
            st0 = ctl_request(a.sock, "status")
            deadline = time.monotonic() + secs
            while True:
                st = ctl_request(a.sock, "status")
                if st["state"] != "Established":
                    print("bgpraw: FAIL: session %s: %s" % (
                        st["state"], _result("notification",
                                             st["notification"])
                        if st["notification"] else st["closed"]))
                    return 1
                if (time.monotonic() >= deadline and
                        st["keepalives_rx"] > st0["keepalives_rx"]):
                    print("bgpraw: ok: still Established after %.1fs, %d "
                          "KEEPALIVE(s) received meanwhile" % (
                              secs, st["keepalives_rx"] -
                              st0["keepalives_rx"]))
                    return 0
                if time.monotonic() >= deadline + max(st["hold"], 3):
                    print("bgpraw: FAIL: no KEEPALIVE from the peer for "
                          "%.1fs" % (secs + max(st["hold"], 3)))
                    return 1
                time.sleep(0.2)
        if words[0] == "notification":
            # a session reset: wait for the NOTIFICATION
            secs = float(words[1]) if len(words) > 1 else 10.0
            deadline = time.monotonic() + secs
            while True:
                st = ctl_request(a.sock, "status")
                if st["notification"] is not None:
                    print(json.dumps(st["notification"]))
                    return 0
                if st["state"] != "Established":
                    print("bgpraw: FAIL: closed without NOTIFICATION: %s" %
                          st["closed"])
                    return 1
                if time.monotonic() >= deadline:
                    print("bgpraw: FAIL: no NOTIFICATION within %.1fs" %
                          secs)
                    return 1
                time.sleep(0.1)
        if words[0] == "send-build":
            m = build_message(build_parser().parse_args(["build"] +
                                                         words[1:]))
            words = ["send", m.hex()]
        if words[0] == "wait-rib":
            return ctl_wait_rib(a.sock, words[1:])
        reply = ctl_request(a.sock, " ".join(words))
    except (OSError, ValueError) as e:
        print("bgpraw: FAIL: control socket %s: %s" % (a.sock, e))
        return 1
    print(json.dumps(reply, sort_keys=True))
    return 1 if isinstance(reply, dict) and "error" in reply else 0


def add_ctl_args(sub):
    p = sub.add_parser("ctl", help="talk to a running `session`")
    p.add_argument("sock")
    p.add_argument("words", nargs=argparse.REMAINDER,
                   help="status | rib | send HEX | send-build BUILD-ARGS | "
                   "alive [SECS] | notification [SECS] | "
                   "wait-rib PREFIX present|absent SECS [+ATTR|-ATTR...] | "
                   "quit")
    p.set_defaults(func=cmd_ctl)


# ---------------------------------------------------------------------------
# selftest: byte vectors, no network

def cmd_selftest(a):
    checks = 0

    def eq(got, want, what):
        nonlocal checks
        checks += 1
        if got != want:
            raise AssertionError("%s: got %r, want %r" % (what, got, want))

    eq(msg(KEEPALIVE).hex(), "ff" * 16 + "001304", "KEEPALIVE")
    eq(msg(KEEPALIVE, length=20, pad=1).hex(), "ff" * 16 + "00140400",
       "KEEPALIVE length 20")
    eq(msg(9, marker=b"\x00" * 16).hex(), "00" * 16 + "001309", "marker")
    o = open_body(65001, 90, "192.0.2.2", caps=b"")
    eq(o.hex(), "04fde9005ac000020200", "OPEN without capabilities")
    o = open_body(4200000000, 3, "192.0.2.2",
                  caps=cap_as4(4200000000))
    eq(o.hex(), "045ba00003c00002020802064104fa56ea00",
       "OPEN with AS_TRANS")
    eq(prefix("198.18.5.0/24").hex(), "18c61205", "prefix /24")
    eq(prefix("198.18.5.0/33").hex(), "21c612050000", "prefix /33")
    eq(prefix("2001:db8::/32").hex(), "2020010db8", "prefix v6")
    eq(attr(F_TRANS, A_ORIGIN, b"\x00").hex(), "400101" + "00", "ORIGIN")
    eq(attr(F_OPT | F_EXTLEN, A_MP_REACH, b"\x00\x01\x01").hex(),
       "900e0003000101", "extended length")
    eq(aspath_value([65001]).hex(), "02010000fde9", "AS_PATH 4-octet")
    eq(aspath_value([65001], as4=False).hex(), "0201fde9", "AS_PATH 2")
    u = update_body(attrs=attr(F_TRANS, A_ORIGIN, b"\x00"),
                    nlri=prefix("198.18.5.0/24"))
    eq(u.hex(), "0000" + "0004" + "40010100" + "18c61205", "UPDATE")
    eq(update_body(wlen=9).hex(), "00090000", "withdrawn length override")
    eq(parse_notification(bytes.fromhex("01020012")),
       {"code": 1, "subcode": 2, "data": "0012",
        "text": "message header error / bad message length"},
       "NOTIFICATION decode")
    msgs, rest = split_messages(msg(KEEPALIVE) + msg(UPDATE, u) + b"\xff")
    eq([(t, b.hex()) for t, b in msgs],
       [(KEEPALIVE, ""), (UPDATE, u.hex())], "framing")
    eq(rest, b"\xff", "framing rest")
    pu = parse_update(update_body(
        withdrawn=prefix("198.18.6.0/24"),
        attrs=attr(F_TRANS, A_ORIGIN, b"\x02") +
        attr(F_TRANS, A_ASPATH, aspath_value([64512, 65001])) +
        attr(F_TRANS, A_NEXTHOP, ip4("192.0.2.1")) +
        attr(F_OPT | F_EXTLEN, A_MP_REACH,
             mp_reach_value(2, 1, "2001:db8::1", ["2001:db8:1::/48"])),
        nlri=prefix("198.18.5.0/24")))
    eq(pu, {"withdrawn": ["198.18.6.0/24"],
            "announced": ["198.18.5.0/24", "2001:db8:1::/48"],
            "attrs": {"origin": 2, "as_path": [64512, 65001],
                      "next_hop": "2001:db8::1"}}, "UPDATE decode")
    po = parse_open(open_body(65001, 9, "192.0.2.2"))
    eq(po, {"version": 4, "as": 65001, "hold": 9, "id": "192.0.2.2",
            "caps": [1, 2, 65]}, "OPEN decode")
    # the command line builder agrees with the library
    ns = build_parser().parse_args(
        ["build", "update", "--origin", "0", "--as-path", "65001",
         "--next-hop", "192.0.2.2", "--attr", "0x80:4:000001", "--nlri",
         "198.18.5.0/24"])
    eq(build_message(ns), msg(UPDATE, update_body(
        attrs=attr(F_TRANS, A_ORIGIN, b"\x00") +
        attr(F_TRANS, A_ASPATH, aspath_value([65001])) +
        attr(F_TRANS, A_NEXTHOP, ip4("192.0.2.2")) +
        attr(F_OPT, A_MED, b"\x00\x00\x01"),
        nlri=prefix("198.18.5.0/24"))), "build update")
    ns = build_parser().parse_args(
        ["build", "update", "--mp-reach", "2 1 2001:db8::2 2001:db8:5::/48"])
    eq(build_message(ns)[HDR_LEN:].hex(),
       "0000" + "0020" + "900e001c" + "000201" + "10" +
       "20010db8000000000000000000000002" + "00" + "3020010db80005",
       "build MP_REACH")
    print("%d passed, 0 failed" % checks)
    return 0


# ---------------------------------------------------------------------------

def log(s):
    print("bgpraw: %s" % s, file=sys.stderr, flush=True)


def build_parser():
    p = argparse.ArgumentParser(
        prog="bgpraw.py", description="raw BGP-4 speaker for negative tests")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_build_args(sub)
    add_probe_args(sub)
    add_session_args(sub)
    add_ctl_args(sub)
    s = sub.add_parser("selftest", help="offline encode/decode checks")
    s.set_defaults(func=cmd_selftest)
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    try:
        return a.func(a)
    except BgpError as e:
        print("bgpraw: FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
