import CDPDK
import DPDK
import Glibc
import Offload
import Wire

extension TapDevice {
    /// Reads up to `count` frames (rte_eth_rx_burst semantics): the mbufs are written to
    /// `packets[0..<n]` and belong to the caller. Never blocks; stops at the first EAGAIN.
    ///
    /// Each frame is one `readv`: the 24-byte header into a scratch area, the frame into a chain
    /// of mbufs taken from a reserve (refilled in bulk from the pool). The header is checked as
    /// Linux checks it and against the frame's parsed headers, then becomes metadata:
    /// - GSO (TSO/USO, plain or UDP tunnel): `TCP_SEG`/`UDP_SEG`, `IPV4`/`IPV6` (+`IP_CKSUM`),
    ///   the tunnel type (VXLAN, VXLAN_GPE, GENEVE, else UDP) with `OUTER_IPV4`/`OUTER_IPV6`
    ///   (+`OUTER_IP_CKSUM`, + `OUTER_UDP_CKSUM` when the header has UDP_TUNNEL_CSUM), the six
    ///   lengths, `tso_segsz` = gso_size, and `RX_LRO`. The partial checksums the kernel left
    ///   (pseudo-header sums with the length) are turned into DPDK's TSO form (without it).
    /// - NEEDS_CSUM alone: a `TCP_CKSUM`/`UDP_CKSUM` request with lengths (tunnel flags when
    ///   the checksum is the inner one); a partial checksum no flag can express is completed in
    ///   software. Both set `RX_L4_CKSUM_NONE` (data verified, field not final).
    /// - DATA_VALID: `RX_L4_CKSUM_GOOD`.
    /// Dropped frames are counted by reason and freed. A failed read is counted by errno; one
    /// that says the interface is gone stops the reads until `reattach()`.
    public func receive(into packets: UnsafeMutablePointer<OpaquePointer?>, count: Int) -> Int {
        // A gone interface costs no system call; after another error, reads pause 1 ms.
        if isDetached { return 0 }
        if rxResume.pointee != 0 {
            if cdpdk_rdtsc() < rxResume.pointee { return 0 }
            rxResume.pointee = 0
        }
        var received = 0
        while received < count {
            guard refillReceiveMbufs() else {
                rxCounters[TapCounter.rxNoMbuf] &+= 1
                break
            }
            let first = rxIov[1]
            rxIov[1] = iovec(iov_base: first.iov_base! + headroom, iov_len: first.iov_len - headroom)
            let n = readv(hot.pointee.fd, rxIov, Int32(1 + segmentsPerRead))
            rxIov[1] = first
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    rxCounters[TapCounter.rxAgain] &+= 1
                } else {
                    rxCounters[TapCounter.rxErrnoBase + TapCounter.errnoSlot(code)] &+= 1
                    if Self.meansInterfaceGone(code) { markDetached(code) } else { rxResume.pointee = cdpdk_rdtsc() &+ errorBackoffCycles }
                }
                break
            }
            if case .success(let packet) = complete(readLength: n) {
                packets[received] = packet.pointer
                received += 1
            }
        }
        return received
    }

    /// Bytes one read can take after the header.
    var readCapacity: Int {
        let room = Int(pool.dataRoomSize)
        return room - headroom + (segmentsPerRead - 1) * room
    }

    /// Keeps at least `segmentsPerRead` mbufs in reserve, each with its whole buffer in `rxIov`.
    @inline(__always)
    func refillReceiveMbufs() -> Bool {
        if stashCount >= segmentsPerRead { return true }
        var want = stashCapacity - stashCount
        if !pool.allocateBulk(stash + stashCount, count: want) {
            want = segmentsPerRead - stashCount
            guard pool.allocateBulk(stash + stashCount, count: want) else { return false }
        }
        for index in stashCount..<(stashCount + want) {
            let mbuf = stash[index]!
            rxIov[1 + index] = iovec(iov_base: cdpdk_mbuf_buf_addr(mbuf), iov_len: Int(cdpdk_mbuf_buf_len(mbuf)))
        }
        stashCount += want
        return true
    }

    /// After a read of `n` bytes (header included) into `rxHeader` and the reserve: the packet,
    /// or why it was dropped (counted, freed).
    @inline(__always)
    func complete(readLength n: Int) -> Result<Mbuf, TapRxDropReason> {
        let length = n - Self.headerLength
        var reason = TapRxDropReason.frameTooShort
        if length >= 14 && length < readCapacity {
            let head = takeChain(length: length)
            guard let refused = applyHeader(to: head, length: length) else {
                rxCounters[TapCounter.rxPackets] &+= 1
                rxCounters[TapCounter.rxBytes] &+= UInt64(length)
                return .success(head)
            }
            head.free()
            reason = refused
        } else if length >= readCapacity {
            // It filled everything: possibly cut. Give back the mbufs it used.
            takeChain(length: readCapacity).free()
            reason = .frameTooLong
        }
        rxCounters[TapCounter.rxDropBase + reason.index] &+= 1
        return .failure(reason)
    }

    /// Links the reserve mbufs that hold `length` bytes into a chain and removes them from the
    /// reserve.
    @inline(__always)
    func takeChain(length: Int) -> Mbuf {
        let room = Int(pool.dataRoomSize)
        let firstRoom = room - headroom
        let used = length <= firstRoom ? 1 : 1 + (length - firstRoom + room - 1) / room
        var remaining = length
        for index in 0..<used {
            let mbuf = Mbuf(stash[index]!)
            let offset = index == 0 ? headroom : 0
            let take = min(remaining, room - offset)
            mbuf.dataOffset = UInt16(offset)
            mbuf.dataLength = UInt16(take)
            mbuf.next = index + 1 < used ? Mbuf(stash[index + 1]!) : nil
            remaining -= take
        }
        let head = Mbuf(stash[0]!)
        head.segmentCount = UInt16(used)
        head.packetLength = UInt32(length)
        stashCount -= used
        if stashCount > 0 {
            (stash).update(from: stash + used, count: stashCount)
            (rxIov + 1).update(from: rxIov + 1 + used, count: stashCount)
        }
        for index in stashCount..<(stashCount + used) { stash[index] = nil }
        return head
    }

    /// The receive path without the read: `bytes` is what a read would return (24-byte header,
    /// then the frame). Goes through the same reserve, checks and metadata as `receive`; the
    /// packet, or the reason it was dropped (also counted). For tests and replay.
    func receive(bytes: UnsafeRawBufferPointer) -> Result<Mbuf, TapRxDropReason> {
        precondition(refillReceiveMbufs(), "vnet tap: pool empty")
        var copied = 0
        for index in 0..<(1 + segmentsPerRead) where copied < bytes.count {
            var iov = rxIov[index]
            if index == 1 { iov = iovec(iov_base: iov.iov_base! + headroom, iov_len: iov.iov_len - headroom) }
            let take = min(iov.iov_len, bytes.count - copied)
            iov.iov_base!.copyMemory(from: bytes.baseAddress! + copied, byteCount: take)
            copied += take
        }
        return complete(readLength: copied)
    }

    /// Checks the header in `rxHeader` against the frame in `head` and writes the metadata.
    /// Returns why the frame must be dropped, or nil.
    func applyHeader(to head: Mbuf, length: Int) -> TapRxDropReason? {
        let header: VirtioNetHeader
        do {
            header = try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: rxHeader, count: Self.headerLength), format: .tunnel)
        } catch {
            return .header(.truncated)
        }
        let firstLength = Int(head.dataLength)
        let frame: UnsafeRawBufferPointer
        if head.segmentCount == 1 {
            frame = UnsafeRawBufferPointer(start: head.data, count: length)
        } else {
            // The checks read headers only but compare offsets with the whole length.
            parseScratch.copyMemory(from: head.data, byteCount: firstLength)
            frame = UnsafeRawBufferPointer(start: parseScratch, count: length)
        }
        do {
            try header.validate(offloads: validationOffloads, frame: frame, receiving: true)
        } catch {
            return TapRxDropReason(error)
        }
        head.port = hot.pointee.portID
        let gso = header.gsoType
        if gso != .none {
            return applySegmentation(header, to: head, frame: frame, firstLength: firstLength, length: length)
        }
        if header.flags.contains(.needsChecksum) {
            return applyChecksum(header, to: head, frame: frame, firstLength: firstLength, length: length)
        }
        head.offloadFlags = header.flags.contains(.dataValid) ? .rxL4ChecksumGood : []
        return nil
    }

    /// A super-frame: its header's offsets must be the frame's own.
    @inline(__always)
    func applySegmentation(
        _ header: VirtioNetHeader, to head: Mbuf, frame: UnsafeRawBufferPointer, firstLength: Int, length: Int
    ) -> TapRxDropReason? {
        let gso = header.gsoType
        let base = VirtioNetHeader.GSOType(rawValue: gso.rawValue & 0x1F)
        let isTCP = base == .tcpv4 || base == .tcpv6
        guard isTCP || base == .udpL4 else { return .header(.unknownGSOType) }  // UFO: no mbuf form
        let layout: PacketLayout
        do {
            layout = try PacketLayout.parse(frame, tunnels: hot.pointee.tunnelPorts)
        } catch {
            return .frameUnparsable
        }
        guard layout.payloadOffset <= firstLength else { return .headersTooLong }
        // The outermost IP packet must be the whole frame: a NIC would send padding as payload.
        guard layout.payloadOffset + Int(layout.payloadLength) == length,
            layout.flags.isDisjoint(with: [.outerFragment, .innerFragment])
        else { return .layoutMismatch }
        let wantL4: L4Kind = isTCP ? .tcp : .udp
        var flags: MbufFlags = isTCP ? .txTCPSegmentation : .txUDPSegmentation
        let lengths: TxOffloadLengths
        let l4Start: Int
        var l3Kind: L3Kind
        if gso.isTunnel {
            let outerIPv6 = gso.tunnelBits == VirtioNetHeader.GSOType.udpTunnelIPv6
            let outerTH = Int(header.outerTransportOffset), innerNH = Int(header.innerNetworkOffset)
            l4Start = Int(header.checksumStart)
            guard layout.isTunnel, layout.outerL4 == .udp, layout.outerL3 == (outerIPv6 ? .ipv6 : .ipv4),
                layout.outerL4Offset == outerTH, layout.innerL3Offset == innerNH, layout.innerL4Offset == l4Start,
                layout.innerL4 == wantL4,
                // GRE over FOU/GUE is a UDP tunnel to the NIC too.
                case let tunnelFlag = layout.flags.contains(.greOverUDP) ? MbufFlags.txTunnelUDP : layout.tunnelOffloadFlag,
                !tunnelFlag.isEmpty
            else { return .layoutMismatch }
            l3Kind = layout.innerL3
            flags.formUnion(tunnelFlag)
            flags.formUnion(outerIPv6 ? .txOuterIPv6 : [.txOuterIPv4, .txOuterIPChecksum])
            guard TxOffloadLengths.fits(
                l2: innerNH - outerTH, l3: l4Start - innerNH, l4: Int(layout.innerL4Length),
                tsoSegmentSize: Int(header.gsoSize), outerL2: Int(layout.outerL2Length), outerL3: Int(layout.outerL3Length))
            else { return .headersTooLong }
            lengths = TxOffloadLengths(
                l2: innerNH - outerTH, l3: l4Start - innerNH, l4: Int(layout.innerL4Length),
                tsoSegmentSize: Int(header.gsoSize), outerL2: Int(layout.outerL2Length), outerL3: Int(layout.outerL3Length))
            if header.flags.contains(.udpTunnelChecksum) {
                flags.insert(.txOuterUDPChecksum)
                let field = outerTH + 6
                head.data.setBE16(field, onesSubtract(head.data.be16(field), UInt16(truncatingIfNeeded: length - outerTH)))
            }
            rxCounters[TapCounter.rxTunnelSuperFrames] &+= 1
        } else {
            l4Start = layout.outerL4Offset
            guard layout.outerL4 == wantL4, !header.flags.contains(.needsChecksum) || Int(header.checksumStart) == l4Start
            else { return .layoutMismatch }
            l3Kind = layout.outerL3
            guard TxOffloadLengths.fits(
                l2: Int(layout.outerL2Length), l3: Int(layout.outerL3Length), l4: Int(layout.outerL4Length),
                tsoSegmentSize: Int(header.gsoSize), outerL2: 0, outerL3: 0)
            else { return .headersTooLong }
            lengths = TxOffloadLengths(
                l2: Int(layout.outerL2Length), l3: Int(layout.outerL3Length), l4: Int(layout.outerL4Length),
                tsoSegmentSize: Int(header.gsoSize))
        }
        switch base {
        case .tcpv4: guard l3Kind == .ipv4 else { return .layoutMismatch }
        case .tcpv6: guard l3Kind == .ipv6 else { return .layoutMismatch }
        default: guard l3Kind != .none else { return .layoutMismatch }
        }
        flags.formUnion(l3Kind == .ipv4 ? [.txIPv4, .txIPChecksum] : .txIPv6)
        if header.flags.contains(.needsChecksum) {
            // Linux leaves pseudo-header sums with the L4 length; DPDK's TSO form has none.
            let field = l4Start + (isTCP ? 16 : 6)
            head.data.setBE16(field, onesSubtract(head.data.be16(field), UInt16(truncatingIfNeeded: length - l4Start)))
            flags.formUnion([.rxL4ChecksumBad, .rxL4ChecksumGood])  // RX_L4_CKSUM_NONE
        }
        flags.insert(.rxLRO)
        head.offloadFlags = flags
        head.txOffload = lengths
        rxCounters[TapCounter.rxSuperFrames] &+= 1
        return nil
    }

    /// NEEDS_CSUM without GSO: a checksum request where the offsets are a TCP or UDP checksum
    /// the parser found; anything else is completed here.
    @inline(__always)
    func applyChecksum(
        _ header: VirtioNetHeader, to head: Mbuf, frame: UnsafeRawBufferPointer, firstLength: Int, length: Int
    ) -> TapRxDropReason? {
        let start = Int(header.checksumStart), offset = Int(header.checksumOffset)
        let l4Kind: L4Kind = offset == 16 ? .tcp : offset == 6 ? .udp : .none
        if l4Kind != .none, let layout = try? PacketLayout.parse(frame, tunnels: hot.pointee.tunnelPorts),
            layout.payloadOffset <= firstLength
        {
            var flags: MbufFlags = l4Kind == .tcp ? .txTCPChecksum : .txUDPChecksum
            flags.formUnion([.rxL4ChecksumBad, .rxL4ChecksumGood])  // RX_L4_CKSUM_NONE
            if layout.isTunnel, layout.innerL4Offset == start, layout.innerL4 == l4Kind,
                case let tunnelFlag = layout.tunnelOffloadFlag, !tunnelFlag.isEmpty,
                TxOffloadLengths.fits(
                    l2: layout.innerL3Offset - layout.outerL4Offset, l3: Int(layout.innerL3Length),
                    l4: Int(layout.innerL4Length), tsoSegmentSize: 0, outerL2: Int(layout.outerL2Length),
                    outerL3: Int(layout.outerL3Length))
            {
                flags.formUnion(tunnelFlag)
                flags.formUnion(layout.innerL3 == .ipv4 ? .txIPv4 : .txIPv6)
                flags.formUnion(layout.outerL3 == .ipv4 ? .txOuterIPv4 : .txOuterIPv6)
                head.offloadFlags = flags
                head.txOffload = TxOffloadLengths(
                    l2: layout.innerL3Offset - layout.outerL4Offset, l3: Int(layout.innerL3Length),
                    l4: Int(layout.innerL4Length), outerL2: Int(layout.outerL2Length), outerL3: Int(layout.outerL3Length))
                return nil
            }
            if layout.outerL4Offset == start, layout.outerL4 == l4Kind, layout.outerL3 != .none,
                TxOffloadLengths.fits(
                    l2: Int(layout.outerL2Length), l3: Int(layout.outerL3Length), l4: Int(layout.outerL4Length),
                    tsoSegmentSize: 0, outerL2: 0, outerL3: 0)
            {
                flags.formUnion(layout.outerL3 == .ipv4 ? .txIPv4 : .txIPv6)
                head.offloadFlags = flags
                head.txOffload = TxOffloadLengths(
                    l2: Int(layout.outerL2Length), l3: Int(layout.outerL3Length), l4: Int(layout.outerL4Length))
                return nil
            }
        }
        // Complete it here, as Linux's skb_checksum_help would.
        guard start + offset + 2 <= firstLength else { return .headersTooLong }
        let sum = PacketChecksums.chainSum(head, from: start, count: length - start)
        let folded = ~sum
        head.data.setBE16(start + offset, folded == 0 ? 0xFFFF : folded)
        head.offloadFlags = .rxL4ChecksumGood
        rxCounters[TapCounter.rxChecksumsCompleted] &+= 1
        return nil
    }
}
