"""Sends UDP datagrams with headers built by hand through a raw socket (needs root or CAP_NET_RAW),
so a test can use source ports the socket API refuses, such as 0. One datagram per stdin line:
`src dst sport dport hexpayload` (IPv4). Prints how many were sent."""
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


socks = {}
sent = 0
for line in sys.stdin:
    if not line.strip():
        continue
    src, dst, sport, dport, payload = (line.split() + [""])[:5]
    payload = bytes.fromhex(payload)
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_UDP, length)
    unsummed = struct.pack("!HHHH", int(sport), int(dport), length, 0)
    # A computed 0 is sent as 0xFFFF: 0 means "no checksum" (RFC 768).
    header = struct.pack("!HHHH", int(sport), int(dport), length, checksum(pseudo + unsummed + payload) or 0xFFFF)
    # IPPROTO_UDP raw sockets take the UDP header and payload; the kernel adds the IP header with
    # the bound source address.
    if src not in socks:
        socks[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        socks[src].bind((src, 0))
    socks[src].sendto(header + payload, (dst, 0))
    sent += 1
print(sent)
