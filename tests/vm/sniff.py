# Counts IPv4 packets on an interface, both directions (AF_PACKET, no tcpdump needed), for
# tests/vm/inner_ipip.sh: how many were IP-in-IP (protocol 4) from one
# underlay address to another carrying an inner packet between two pod
# addresses, and how many carried the pod addresses unencapsulated.
#   python3 sniff.py IFACE POD_A POD_B
# prints "ready" once listening; on SIGTERM/SIGINT prints
# "ipip=N plain=M outer=SRC>DST,..." and exits 0.
import signal, socket, struct, sys

ifname, pa, pb = sys.argv[1], sys.argv[2], sys.argv[3]
pods = {socket.inet_aton(pa), socket.inet_aton(pb)}
# ETH_P_ALL: on a bridge port the bridge takes received frames before
# protocol-specific packet sockets see them, and only ETH_P_ALL sockets
# see transmitted frames at all
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
s.settimeout(0.2)
stop = False


def on_sig(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_sig)
signal.signal(signal.SIGINT, on_sig)
ipip = plain = 0
outer = set()
print("ready", flush=True)
while not stop:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    if len(ip) < 20 or ip[0] >> 4 != 4:
        continue
    ihl = (ip[0] & 15) * 4
    proto, src, dst = ip[9], ip[12:16], ip[16:20]
    if proto == 4 and len(ip) >= ihl + 20:
        inner = ip[ihl:]
        if {inner[12:16], inner[16:20]} == pods:
            ipip += 1
            outer.add("%s>%s" % (socket.inet_ntoa(src), socket.inet_ntoa(dst)))
    elif src in pods or dst in pods:
        plain += 1
print("ipip=%d plain=%d outer=%s" % (ipip, plain, ",".join(sorted(outer))),
      flush=True)
