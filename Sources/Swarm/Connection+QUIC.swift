import QUIC
import Wire
import Yamux

/// The QUIC side of `Connection` (issue 13): datagrams in and out, QUIC's stream events turned
/// into the muxer events the stream table already handles, and the muxer operations that go
/// to yamux or to QUIC depending on the transport.
extension Connection {
    /// One datagram from the peer (QUIC connections only).
    public mutating func receivedDatagram(_ datagram: UnsafeRawBufferPointer, now: UInt64) -> ConnectionOutput {
        receivedDatagrams(CollectionOfOne(datagram), now: now)
    }

    /// Datagrams from the peer that arrived together (one `recvmmsg` batch): all go to QUIC
    /// first, then their events are handled and the answer (ACKs, stream data) is written once.
    public mutating func receivedDatagrams(_ datagrams: some Collection<UnsafeRawBufferPointer>, now: UInt64) -> ConnectionOutput {
        guard !closed, let quic else { return take() }
        do {
            for datagram in datagrams { try quic.receive(datagram, now: now) }
        } catch {
            handleQUICEvents(quic.takeEvents(), now: now)
            fail("\(error)", now: now)
            return take()
        }
        handleQUICEvents(quic.takeEvents(), now: now)
        finishTurn(now: now)
        return take()
    }

    mutating func quicTimerFired(_ quic: QUICConnection, now: UInt64) {
        do {
            try quic.timerFired(now: now)
        } catch {
            fail("\(error)", now: now)
            return
        }
        handleQUICEvents(quic.takeEvents(), now: now)
    }

    /// QUIC's stream IDs are 62-bit; the stream table's are 32-bit. A connection would need
    /// a billion streams to leave the range, and is closed if it does.
    private static func streamID(_ id: Int64) -> StreamID? { id >= 0 && id <= Int64(UInt32.max) ? StreamID(id) : nil }

    private mutating func handleQUICEvents(_ events: [QUICEvent], now: UInt64) {
        var batch: [YamuxEvent] = []
        func drain(_ connection: inout Connection) {
            guard !batch.isEmpty else { return }
            do { try connection.handle(batch, now: now) } catch { connection.fail("\(error)", now: now) }
            batch.removeAll()
        }
        for event in events {
            if closed { return }
            if case .established(let peer) = event {
                drain(&self)
                becomeEstablished(peer, now: now)
                continue
            }
            let id: Int64
            switch event {
            case .established: continue
            case .inboundStream(let i), .data(let i, _), .remoteClosedWrite(let i), .streamReset(let i), .streamClosed(let i):
                id = i
            }
            guard let stream = Connection.streamID(id) else {
                fail("QUIC stream ID \(id) is beyond the supported range", now: now)
                return
            }
            switch event {
            case .established: break
            case .inboundStream: batch.append(.inboundStream(stream))
            case .data(_, let bytes): batch.append(.data(stream, bytes[...]))
            case .remoteClosedWrite: batch.append(.remoteClosedWrite(stream))
            case .streamReset: batch.append(.streamReset(stream))
            case .streamClosed: batch.append(.streamClosed(stream))
            }
        }
        drain(&self)
    }

    /// TLS is done and the peer's certificate names it: the QUIC counterpart of the upgrade's
    /// end (no muxer to negotiate: QUIC's streams are ready).
    private mutating func becomeEstablished(_ peer: PeerID, now: UInt64) {
        if refuseIfNotAdmitted(peer, now: now) { return }
        muxed = true
        context.remotePeer = peer
        state = .identifying
        output.events.append(.secured(peer))
        output.events.append(.stateChanged(.identifying))
        for registration in registry.registrations where registration.opensOnConnect {
            _ = openStream(key: registration.key, request: nil, now: now)
        }
    }

    mutating func flushQUIC(now: UInt64) {
        guard let quic, !closed else { return }
        do {
            try quic.datagrams(now: now) { datagram in output.datagrams.append(datagram) }
        } catch {
            fail("\(error)", now: now)
        }
    }

    // MARK: - The muxer: yamux or QUIC

    mutating func muxOpen() throws -> StreamID {
        guard let quic else { return try yamux.openStream() }
        guard let id = quic.openStream() else { throw QUICError.library("the peer allows no more streams now", code: 0) }
        guard let stream = Connection.streamID(id) else { throw QUICError.malformed("stream ID \(id) out of range") }
        return stream
    }

    mutating func muxWrite(_ bytes: [UInt8], on id: StreamID) {
        if let quic { bytes.withUnsafeBytes { quic.write($0, on: Int64(id)) } } else { try? yamux.write(bytes, on: id) }
    }

    mutating func muxWrite(_ bytes: ArraySlice<UInt8>, on id: StreamID) throws {
        if let quic { bytes.withUnsafeBytes { quic.write($0, on: Int64(id)) } } else { try yamux.write(bytes, on: id) }
    }

    mutating func muxReset(_ id: StreamID) {
        if let quic { quic.reset(Int64(id)) } else { yamux.reset(id) }
    }

    mutating func muxCloseWrite(_ id: StreamID) {
        if let quic { quic.closeWrite(Int64(id)) } else { try? yamux.closeWrite(id) }
    }

    mutating func muxConsumed(_ count: Int, on id: StreamID) {
        if let quic { quic.consumed(count, on: Int64(id)) } else { yamux.consumed(count, on: id) }
    }

    func muxPending(_ id: StreamID) -> Int {
        if let quic { return quic.unsentBytes(on: Int64(id)) }
        return yamux.pendingBytes(on: id)
    }
}
