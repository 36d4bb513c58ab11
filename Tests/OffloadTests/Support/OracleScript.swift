/// The scapy oracle (written to a temporary file and run with python3). It decodes every
/// output frame on its own (scapy's checksum and pseudo-header code, its own walk of the
/// tunnel headers, including GUE and STT which tshark does not check), and for each case
/// checks: frame size <= MTU + L2, every length field, every checksum (or, for those left to
/// the port, the pseudo-header the port needs, then emulates the port and checks the outer
/// ones), IPv4 IDs, TCP sequence numbers and flag placement, GRE key and Geneve options
/// kept, and the concatenated (or reassembled) payload equal to the input's.
enum OracleScript {
    static let source = #"""
import json, struct, sys
from scapy.all import IP, IPv6
from scapy.layers.inet import in4_chksum
from scapy.layers.inet6 import in6_chksum
from scapy.utils import checksum, rdpcap

errors = []

def be16(b, o): return struct.unpack_from('!H', b, o)[0]
def be32(b, o): return struct.unpack_from('!I', b, o)[0]

def ipv6_addr(b, o):
    import ipaddress
    return str(ipaddress.IPv6Address(bytes(b[o:o + 16])))

def ipv4_addr(b, o): return '.'.join(str(x) for x in b[o:o + 4])

def pseudo_layer(f, l3):
    if f[l3] >> 4 == 4: return IP(src=ipv4_addr(f, l3 + 12), dst=ipv4_addr(f, l3 + 16))
    return IPv6(src=ipv6_addr(f, l3 + 8), dst=ipv6_addr(f, l3 + 24))

def l4_checksum(f, l3, proto, data):
    """scapy's checksum of data (an L4 header + payload) under the IP header at l3."""
    layer = pseudo_layer(f, l3)
    if isinstance(layer, IP): return in4_chksum(proto, layer, bytes(data))
    return in6_chksum(proto, layer, bytes(data))

def pseudo_sum(f, l3, proto, length):
    """Uncomplemented pseudo-header sum with length, as a port's checksum offload wants it."""
    if f[l3] >> 4 == 4: hdr = bytes(f[l3 + 12:l3 + 20]) + bytes([0, proto]) + struct.pack('!H', length)
    else: hdr = bytes(f[l3 + 8:l3 + 40]) + struct.pack('!IxxxB', length, proto)
    return 0xFFFF - checksum(hdr)

def ip_info(f, l3):
    """(header length incl. fragment header, protocol, end, fragment (offset, more, id) or None)"""
    if f[l3] >> 4 == 4:
        ihl = (f[l3] & 15) * 4
        fl = be16(f, l3 + 6)
        frag = ((fl & 0x1FFF) * 8, bool(fl & 0x2000), be16(f, l3 + 4)) if fl & 0x3FFF else None
        return ihl, f[l3 + 9], l3 + be16(f, l3 + 2), frag
    nh, hl, end = f[l3 + 6], 40, l3 + 40 + be16(f, l3 + 4)
    frag = None
    if nh == 44:
        om = be16(f, l3 + 42)
        frag = (om & 0xFFF8, bool(om & 1), be32(f, l3 + 44))
        nh, hl = f[l3 + 40], 48
    return hl, nh, end, frag

def decode(f, case):
    """Offsets of the layers of one frame, walked without the segmenter's help."""
    d = {}
    at = 12
    et = be16(f, at)
    if et == 0x8100: at += 4; et = be16(f, at)
    at += 2
    d['l2'] = at
    tunnel = case['tunnel']
    if tunnel == 'none':
        d['l3'] = at
        return d
    d['ol3'] = at
    hl, proto, end, frag = ip_info(f, at)
    d['oend'] = end
    at += hl
    if tunnel == 'stt':
        d['stt_tcp'] = at
        return d
    if tunnel in ('vxlan', 'vxlanGPE', 'geneve', 'fou', 'gue'):
        d['oudp'] = at
        at += 8
        if tunnel in ('vxlan', 'vxlanGPE'): at += 8; inner_eth = True
        elif tunnel == 'geneve':
            d['geneve_options'] = bytes(f[at + 8:at + 8 + (f[at] & 63) * 4]).hex()
            at += 8 + (f[at] & 63) * 4; inner_eth = True
        elif tunnel == 'gue': at += 4 + (f[at] & 31) * 4; inner_eth = False
        else: inner_eth = False
    elif tunnel in ('gre', 'nvgre'):
        d['gre'] = at
        flags, gproto = be16(f, at), be16(f, at + 2)
        glen = 4 + (4 if flags & 0x8000 else 0)
        if flags & 0x2000: d['gre_key'] = be32(f, at + glen); glen += 4
        if flags & 0x1000: glen += 4
        at += glen
        inner_eth = gproto == 0x6558
    else:
        inner_eth = False
    if inner_eth:
        at += 12
        if be16(f, at) == 0x8100: at += 4
        at += 2
    d['l3'] = at
    return d

def check_case(case, frames):
    name = case['name']
    def err(msg):
        errors.append(f"{name}: {msg}")
    expected = open(case['payload'], 'rb').read()
    hw = set(case['hw'])
    transport = case['transport']
    if not frames: err('no frames'); return
    if len(frames) != case['expected_count']: err(f"{len(frames)} frames, expected {case['expected_count']}")
    if case['tunnel'] == 'stt': return check_stt(case, frames, expected, err)
    payload = bytearray()
    fragments = []
    seq = case['seq']
    for k, raw in enumerate(frames):
        f = bytearray(raw)
        d = decode(f, case)
        if len(f) > case['mtu'] + d['l2']: err(f"frame {k}: {len(f)} bytes > MTU {case['mtu']} + {d['l2']}")
        l3 = d['l3']
        hl, proto, end, frag = ip_info(f, l3)
        if end != len(f): err(f"frame {k}: inner IP ends at {end}, frame is {len(f)}")
        v4 = f[l3] >> 4 == 4
        if v4:
            if 'innerIPv4' in hw:
                if be16(f, l3 + 10) != 0: err(f"frame {k}: inner IPv4 checksum not 0 for the port")
                f[l3 + 10:l3 + 12] = struct.pack('!H', checksum(bytes(f[l3:l3 + hl])))  # emulate the port
            if checksum(bytes(f[l3:l3 + hl])) != 0: err(f"frame {k}: bad inner IPv4 header checksum")
            iid = be16(f, l3 + 4)
            want = case['inner_id'] if transport == 'ufo' else (case['inner_id'] + k * case['inner_id_step']) & 0xFFFF
            if iid != want: err(f"frame {k}: inner IP ID {iid:#x}, expected {want:#x}")
        l4 = l3 + hl
        if transport == 'ufo':
            if frag is None: err(f"frame {k}: not a fragment"); continue
            fragments.append((frag[0], frag[1], frag[2], bytes(f[l4:end])))
        else:
            if frag is not None: err(f"frame {k}: unexpected fragment")
            seg = f[l4:end]
            if 'innerL4' in hw:
                field = l4 + (16 if proto == 6 else 6)
                want = pseudo_sum(f, l3, proto, len(seg))
                if be16(f, field) != want: err(f"frame {k}: inner L4 field {be16(f, field):#x}, pseudo-header {want:#x}")
                f[field:field + 2] = b'\0\0'  # emulate the port
                c = l4_checksum(f, l3, proto, f[l4:end])
                f[field:field + 2] = struct.pack('!H', c if c != 0 or proto != 17 else 0xFFFF)
            if l4_checksum(f, l3, proto, f[l4:end]) != 0: err(f"frame {k}: bad inner {'TCP' if proto == 6 else 'UDP'} checksum")
            if proto == 6:
                thl = (f[l4 + 12] >> 4) * 4
                s = be32(f, l4 + 4)
                if s != seq & 0xFFFFFFFF: err(f"frame {k}: seq {s:#x}, expected {seq & 0xFFFFFFFF:#x}")
                flags = f[l4 + 13]
                last = k == len(frames) - 1
                want = case['flags']
                if k != 0: want &= ~0x80
                if not last: want &= ~0x09
                if flags != want: err(f"frame {k}: TCP flags {flags:#x}, expected {want:#x}")
                data = f[l4 + thl:end]
                seq += len(data)
            else:
                if be16(f, l4 + 4) != len(seg): err(f"frame {k}: inner UDP length {be16(f, l4 + 4)} != {len(seg)}")
                data = f[l4 + 8:end]
            payload += data
        check_outer(case, d, f, k, hw, err)
    if transport == 'ufo':
        ids = {x[2] for x in fragments}
        if len(ids) != 1: err(f"fragments carry IDs {ids}")
        fragments.sort()
        datagram = bytearray()
        for i, (off, more, _, data) in enumerate(fragments):
            if off != len(datagram): err(f"fragment at {off}, expected {len(datagram)}"); break
            if off % 8: err(f"fragment offset {off} not a multiple of 8")
            if more != (i != len(fragments) - 1): err(f"fragment {i}: MF {more}")
            datagram += data
        f0 = bytearray(frames[0]); d0 = decode(f0, case)
        if be16(datagram, 4) != len(datagram): err(f"UDP length {be16(datagram, 4)} != datagram {len(datagram)}")
        if l4_checksum(f0, d0['l3'], 17, datagram) != 0: err("bad UDP checksum over the reassembled datagram")
        payload = datagram[8:]
    if bytes(payload) != expected:
        err(f"payload differs: {len(payload)} bytes out, {len(expected)} in")

def check_outer(case, d, f, k, hw, err):
    if 'gre' in d:
        flags = be16(f, d['gre'])
        if flags & 0x8000 and checksum(bytes(f[d['gre']:d['oend']])) != 0: err(f"frame {k}: bad GRE checksum")
        if case.get('gre_key') is not None and d.get('gre_key') != case['gre_key']: err(f"frame {k}: GRE key {d.get('gre_key')}")
    if 'geneve_options' in d and d['geneve_options'] != case['geneve_options']: err(f"frame {k}: Geneve options changed")
    if 'oudp' in d:
        u = d['oudp']
        ulen = be16(f, u + 4)
        if ulen != len(f) - u: err(f"frame {k}: outer UDP length {ulen}, expected {len(f) - u}")
        c = be16(f, u + 6)
        if case['outer_udp_zero'] and f[d['ol3']] >> 4 == 4:
            if c != 0: err(f"frame {k}: outer UDP checksum {c:#x}, expected 0")
        elif 'outerUDP' in hw:
            want = pseudo_sum(f, d['ol3'], 17, ulen)
            if c != want: err(f"frame {k}: outer UDP field {c:#x}, pseudo-header {want:#x}")
        elif c == 0 or l4_checksum(f, d['ol3'], 17, f[u:]) != 0:
            err(f"frame {k}: bad outer UDP checksum {c:#x}")
    if 'ol3' in d:
        o = d['ol3']
        if f[o] >> 4 == 4:
            ihl = (f[o] & 15) * 4
            if be16(f, o + 2) != len(f) - o: err(f"frame {k}: outer IPv4 length {be16(f, o + 2)}")
            if 'outerIPv4' in hw:
                if be16(f, o + 10) != 0: err(f"frame {k}: outer IPv4 checksum not 0 for the port")
            elif checksum(bytes(f[o:o + ihl])) != 0: err(f"frame {k}: bad outer IPv4 checksum")
            want = (case['outer_id'] + k * case['outer_id_step']) & 0xFFFF
            if be16(f, o + 4) != want: err(f"frame {k}: outer IP ID {be16(f, o + 4):#x}, expected {want:#x}")
        elif be16(f, o + 4) != len(f) - o - 40: err(f"frame {k}: outer IPv6 payload length {be16(f, o + 4)}")

def check_stt(case, frames, expected, err):
    stt = bytearray()
    ack = None
    for k, raw in enumerate(frames):
        f = bytearray(raw)
        d = decode(f, case)
        if len(f) > case['mtu'] + d['l2']: err(f"frame {k}: {len(f)} bytes > MTU + L2")
        t = d['stt_tcp']
        o = d['ol3']
        if l4_checksum(f, o, 6, f[t:d['oend']]) != 0: err(f"frame {k}: bad STT TCP checksum")
        if f[o] >> 4 == 4:
            if checksum(bytes(f[o:o + 20])) != 0: err(f"frame {k}: bad outer IPv4 checksum")
            want = (case['outer_id'] + k * case['outer_id_step']) & 0xFFFF
            if be16(f, o + 4) != want: err(f"frame {k}: outer IP ID {be16(f, o + 4):#x}, expected {want:#x}")
        seq = be32(f, t + 4)
        if ack is None: ack = be32(f, t + 8)
        if be32(f, t + 8) != ack: err(f"frame {k}: ack (frame id) changed")
        if seq & 0xFFFF != len(stt): err(f"frame {k}: fragment offset {seq & 0xFFFF}, expected {len(stt)}")
        stt += f[t + (f[t + 12] >> 4) * 4:d['oend']]
        total = seq >> 16
    if total != len(stt): err(f"STT frame length {total} in seq, {len(stt)} carried")
    if stt[0] != 0: err("STT version not 0 at the start of the first segment")
    # The carried frame: Ethernet, IP, TCP/UDP, checked like a plain packet.
    inner = stt[18:]
    at = 14
    hl, proto, end, frag = ip_info(inner, at)
    if inner[at] >> 4 == 4 and checksum(bytes(inner[at:at + hl])) != 0: err("bad carried IPv4 checksum")
    if l4_checksum(inner, at, proto, inner[at + hl:end]) != 0: err("bad carried L4 checksum")
    l4 = at + hl
    data = inner[l4 + ((inner[l4 + 12] >> 4) * 4 if proto == 6 else 8):end]
    if bytes(data) != expected: err(f"carried payload differs: {len(data)} out, {len(expected)} in")

manifest = json.load(open(sys.argv[1]))
for pcap, cases in manifest.items():
    frames = [bytes(p) for p in rdpcap(pcap)]
    for case in cases:
        check_case(case, frames[case['first']:case['first'] + case['count']])
shown = {}
for e in errors:  # the first few problems of every case
    name = e.split(':')[0]
    shown[name] = shown.get(name, 0) + 1
    if shown[name] <= 3: print(e)
print(f"oracle: {len(errors)} problems")
sys.exit(1 if errors else 0)
"""#
}
