import CDPDK
import DPDK
import Glibc
import Offload
import Wire

extension TapDevice {
    /// Writes up to `count` packets (rte_eth_tx_burst semantics): returns how many it took;
    /// those are freed (written, or dropped and counted). It stops at the first EAGAIN: packets
    /// from the returned index on still belong to the caller (retry or free them).
    ///
    /// Each packet is one `writev` of a 24-byte virtio-net header and the chain's segments,
    /// no copy. The header comes from the mbuf's metadata, read as a NIC reads it:
    /// - `TCP_SEG`/`UDP_SEG`: TSO/USO with gso_size = `tso_segsz`; with a UDP tunnel type
    ///   (VXLAN, VXLAN_GPE, GENEVE, UDP) and `OUTER_IPV4`/`OUTER_IPV6`: UDP tunnel GSO with
    ///   outer_th/inner_nh from the lengths, UDP_TUNNEL_CSUM when `OUTER_UDP_CKSUM` is asked
    ///   (else the outer UDP checksum is zeroed: the kernel would copy a stale one into every
    ///   segment). IP and UDP lengths are made to describe the whole super-frame, IPv4 header
    ///   checksums are filled, and the partial checksums are written the way Linux wants them
    ///   (pseudo-header sums with the length), whatever the caller left there.
    /// - `TCP_CKSUM`/`UDP_CKSUM`: NEEDS_CSUM at the (inner) L4 header; an outer UDP checksum
    ///   asked beside it is computed here (local checksum offload, headers only).
    /// - `IP_CKSUM`/`OUTER_IP_CKSUM` are done here (virtio has no IPv4 header checksum offload).
    /// - nothing: a header with flags 0.
    /// The kernel checks the header again: an EINVAL is counted under its errno. Once a write
    /// finds the interface gone, nothing more is taken until `reattach()`.
    public func transmit(_ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int) -> Int {
        // A gone interface takes nothing: the caller drops and counts the burst.
        if isDetached {
            txCounters[TapCounter.txLinkDown] &+= UInt64(count)
            return 0
        }
        var index = 0
        while index < count {
            let packet = Mbuf(packets[index]!)
            if let reason = prepareHeader(packet) {
                txCounters[TapCounter.txDropBase + reason.rawValue] &+= 1
                packet.free()
                index += 1
                continue
            }
            guard write(packet) else { break }
            index += 1
        }
        return index
    }

    /// One writev of `txHeader` and the packet's segments. Frees the packet and counts the
    /// outcome, except on EAGAIN: then it returns false and the packet stays the caller's.
    @inline(__always)
    func write(_ packet: Mbuf) -> Bool {
        var segments = 0
        var total = Self.headerLength
        var segment: Mbuf? = packet
        while let current = segment, segments < Self.maximumTxSegments {
            let length = Int(current.dataLength)
            if length > 0 {
                txIov[1 + segments] = iovec(iov_base: current.data, iov_len: length)
                segments += 1
                total += length
            }
            segment = current.next
        }
        if segment != nil {
            txCounters[TapCounter.txDropBase + TapTxDropReason.tooManySegments.rawValue] &+= 1
            packet.free()
            return true
        }
        var written = writev(hot.pointee.fd, txIov, Int32(1 + segments))
        while written < 0 && errno == EINTR { written = writev(hot.pointee.fd, txIov, Int32(1 + segments)) }
        if written < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK {
                txCounters[TapCounter.txAgain] &+= 1
                return false
            }
            txCounters[TapCounter.txErrnoBase + TapCounter.errnoSlot(code)] &+= 1
            if Self.meansInterfaceGone(code) { markDetached(code) }
        } else if written != total {
            txCounters[TapCounter.txErrnoBase + TapCounter.errnoSlot(EIO)] &+= 1
        } else {
            txCounters[TapCounter.txPackets] &+= 1
            txCounters[TapCounter.txBytes] &+= UInt64(total - Self.headerLength)
            let gso = txHeader.load(fromByteOffset: 1, as: UInt8.self)
            if gso != 0 {
                txCounters[TapCounter.txSuperFrames] &+= 1
                if gso & 0x60 != 0 { txCounters[TapCounter.txTunnelSuperFrames] &+= 1 }
            }
        }
        packet.free()
        return true
    }

    /// Writes `packet` behind `header` as given, metadata ignored: for tests of the kernel's
    /// own checks. Counts and frees as `transmit` does; false on EAGAIN (packet not freed).
    func transmit(_ packet: Mbuf, header: VirtioNetHeader) -> Bool {
        var header = header
        if header.gsoType.isTunnel == false, header.outerTransportOffset != 0 || header.innerNetworkOffset != 0 {
            header.outerTransportOffset = 0
            header.innerNetworkOffset = 0
        }
        try! header.encode(into: UnsafeMutableRawBufferPointer(start: txHeader, count: Self.headerLength), format: .tunnel)
        return write(packet)
    }

    /// Writes the header for `packet` into `txHeader` and fixes the packet's headers for it,
    /// or returns why the packet cannot be sent. Idempotent (a retry after EAGAIN redoes it).
    @inline(__always)
    func prepareHeader(_ packet: Mbuf) -> TapTxDropReason? {
        let flags = packet.offloadFlags
        let lengths = packet.txOffload
        let length = Int(packet.packetLength)
        let firstLength = Int(packet.dataLength)
        let h = packet.data
        var header = VirtioNetHeader()
        let hasOuter = !flags.isDisjoint(with: [.txOuterIPv4, .txOuterIPv6])
        let outerL3Start = hasOuter ? lengths.outerL2 : 0
        let outerTH = hasOuter ? lengths.outerL2 + lengths.outerL3 : 0
        let innerNH = outerTH + lengths.l2
        let l4Start = innerNH + lengths.l3
        let tunnel = flags.tunnelType
        let l4Request = flags.intersection(.txL4Mask)
        let segmenting = !flags.isDisjoint(with: [.txTCPSegmentation, .txUDPSegmentation])

        if segmenting {
            let isTCP = flags.contains(.txTCPSegmentation)
            let innerIPv6 = flags.contains(.txIPv6)
            guard innerIPv6 != flags.contains(.txIPv4), lengths.tsoSegmentSize > 0 else { return .unsupportedMetadata }
            guard grantedOffloads.contains(isTCP ? .tso : .uso) else { return .offloadNotGranted }
            let headerEnd = l4Start + (isTCP ? max(lengths.l4, 20) : 8)
            guard headerEnd <= firstLength, headerEnd < length, h.ipHeaderFits(at: innerNH, end: l4Start),
                h.isIPv6Header(at: innerNH) == innerIPv6
            else { return .badLengths }
            let base: VirtioNetHeader.GSOType = isTCP ? (innerIPv6 ? .tcpv6 : .tcpv4) : .udpL4
            header.flags = .needsChecksum
            if tunnel.rawValue != 0 {
                guard tunnel == .txTunnelVXLAN || tunnel == .txTunnelVXLANGPE || tunnel == .txTunnelGENEVE
                    || tunnel == .txTunnelUDP, hasOuter
                else { return .unsupportedMetadata }
                guard grantedOffloads.contains(.tunnel) else { return .offloadNotGranted }
                let outerIPv6 = flags.contains(.txOuterIPv6)
                guard lengths.outerL2 >= 14, innerNH >= outerTH + 8, h.ipHeaderFits(at: outerL3Start, end: outerTH),
                    h.isIPv6Header(at: outerL3Start) == outerIPv6
                else { return .badLengths }
                header.gsoType = .tunnel(base, outerIPv6: outerIPv6)
                header.outerTransportOffset = UInt16(outerTH)
                header.innerNetworkOffset = UInt16(innerNH)
                // Lengths of the whole super-frame, outer first.
                h.setIPEnd(ipAt: outerL3Start, end: length)
                h.setBE16(outerTH + 4, UInt16(truncatingIfNeeded: length - outerTH))
                if flags.contains(.txOuterUDPChecksum) {
                    guard grantedOffloads.contains(.tunnelChecksum) else { return .offloadNotGranted }
                    header.flags.insert(.udpTunnelChecksum)
                    h.setBE16(outerTH + 6, h.pseudoHeaderSum(ipAt: outerL3Start, protocol: IPProtocol.udp, length: length - outerTH))
                } else {
                    h.setBE16(outerTH + 6, 0)
                }
            } else {
                guard !hasOuter else { return .unsupportedMetadata }
                header.gsoType = base
            }
            h.setIPEnd(ipAt: innerNH, end: length)
            if !isTCP { h.setBE16(l4Start + 4, UInt16(truncatingIfNeeded: length - l4Start)) }
            header.headerLength = UInt16(headerEnd)
            header.gsoSize = UInt16(lengths.tsoSegmentSize)
            header.checksumStart = UInt16(l4Start)
            header.checksumOffset = isTCP ? 16 : 6
            h.setBE16(
                l4Start + Int(header.checksumOffset),
                h.pseudoHeaderSum(ipAt: innerNH, protocol: isTCP ? IPProtocol.tcp : IPProtocol.udp, length: length - l4Start))
        } else {
            // Inner IPv4 header first: an outer UDP checksum covers it.
            if flags.contains(.txIPChecksum) {
                guard h.ipHeaderFits(at: innerNH, end: min(firstLength, l4Start)), !h.isIPv6Header(at: innerNH) else {
                    return .badLengths
                }
                h.fillIPv4HeaderChecksum(at: innerNH)
            }
            if flags.contains(.txOuterIPChecksum) {
                guard hasOuter, h.ipHeaderFits(at: outerL3Start, end: min(firstLength, outerTH)), !h.isIPv6Header(at: outerL3Start)
                else { return .badLengths }
                h.fillIPv4HeaderChecksum(at: outerL3Start)
            }
            let outerUDP = flags.contains(.txOuterUDPChecksum)
            if outerUDP {
                guard hasOuter else { return .unsupportedMetadata }
                guard h.ipHeaderFits(at: outerL3Start, end: min(firstLength, outerTH)), outerTH + 8 <= firstLength else {
                    return .badLengths
                }
            }
            if l4Request.rawValue != 0 {
                guard l4Request == .txTCPChecksum || l4Request == .txUDPChecksum else { return .unsupportedMetadata }
                guard grantedOffloads.contains(.checksum) else { return .offloadNotGranted }
                let isTCP = l4Request == .txTCPChecksum
                let offset = isTCP ? 16 : 6
                guard l4Start + offset + 2 <= firstLength, h.ipHeaderFits(at: innerNH, end: l4Start) else { return .badLengths }
                let ipEnd = h.ipEnd(ipAt: innerNH)
                guard ipEnd >= l4Start + offset + 2, ipEnd <= length else { return .badLengths }
                let pseudo = h.pseudoHeaderSum(ipAt: innerNH, protocol: isTCP ? IPProtocol.tcp : IPProtocol.udp, length: ipEnd - l4Start)
                h.setBE16(l4Start + offset, pseudo)
                header.flags = .needsChecksum
                header.checksumStart = UInt16(l4Start)
                header.checksumOffset = UInt16(offset)
                header.headerLength = UInt16(l4Start + max(lengths.l4, offset + 2))
                if outerUDP {
                    guard outerTH + 8 <= l4Start else { return .badLengths }
                    // Local checksum offload: once the inner checksum is final, the inner L4
                    // bytes sum to ~pseudo, so the outer sum needs the headers only.
                    h.setBE16(outerTH + 6, 0)
                    var sum = ChecksumAccumulator(
                        initial: h.pseudoHeaderSum(ipAt: outerL3Start, protocol: IPProtocol.udp, length: Int(h.be16(outerTH + 4))))
                    sum.add(UnsafeRawBufferPointer(start: h + outerTH, count: l4Start - outerTH))
                    sum.add(sum: ~pseudo, length: 2)
                    h.setBE16(outerTH + 6, InternetChecksum.udpField(sum.checksum))
                }
            } else if outerUDP {
                let udpLength = Int(h.be16(outerTH + 4))
                guard udpLength >= 8, outerTH + udpLength <= length else { return .badLengths }
                h.setBE16(outerTH + 6, 0)
                let sum = InternetChecksum.add(
                    h.pseudoHeaderSum(ipAt: outerL3Start, protocol: IPProtocol.udp, length: udpLength),
                    PacketChecksums.chainSum(packet, from: outerTH, count: udpLength))
                h.setBE16(outerTH + 6, InternetChecksum.udpField(~sum))
            }
        }
        do {
            try header.encode(into: UnsafeMutableRawBufferPointer(start: txHeader, count: Self.headerLength), format: .tunnel)
        } catch {
            return .unsupportedMetadata
        }
        return nil
    }
}
