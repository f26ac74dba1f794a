import CNgtcp2
import P2PCrypto

/// ngtcp2's application callbacks: C function pointers that capture nothing, so each finds
/// its `QUICConnection` through `user_data` (set to the connection, unretained: the connection
/// owns the ngtcp2 object, so it outlives every callback).
enum QUICCallbacks {
    static func connection(_ userData: UnsafeMutableRawPointer?) -> QUICConnection {
        Unmanaged<QUICConnection>.fromOpaque(userData!).takeUnretainedValue()
    }

    static func fillRandom(_ bytes: inout [UInt8]) {
        let random = SecureRandom.bytes(bytes.count)
        bytes.replaceSubrange(0..<bytes.count, with: random)
    }

    static func install(into callbacks: inout ngtcp2_callbacks) {
        // ngtcp2's own handler, after noting that a packet decrypted into handshake data.
        callbacks.recv_crypto_data = { conn, level, offset, data, length, userData in
            QUICCallbacks.connection(userData).receivedCryptoData = true
            return ngtcp2_crypto_recv_crypto_data_cb(conn, level, offset, data, length, userData)
        }
        callbacks.rand = { dest, length, _ in
            guard let dest, length > 0 else { return }
            let random = SecureRandom.bytes(length)
            random.withUnsafeBufferPointer { dest.update(from: $0.baseAddress!, count: length) }
        }
        callbacks.get_new_connection_id = { _, cid, token, length, userData in
            QUICCallbacks.connection(userData).newConnectionID(cid!, token: token!, length: length)
        }
        callbacks.remove_connection_id = { _, cid, userData in
            QUICCallbacks.connection(userData).removeConnectionID(cid!)
        }
        callbacks.handshake_completed = { _, userData in
            QUICCallbacks.connection(userData).handshakeDone()
        }
        callbacks.stream_open = { _, id, userData in
            QUICCallbacks.connection(userData).streamOpened(id)
        }
        callbacks.recv_stream_data = { _, flags, id, _, data, length, userData, _ in
            QUICCallbacks.connection(userData).streamData(id, UnsafeBufferPointer(start: data, count: length),
                                            fin: flags & UInt32(NGTCP2_STREAM_DATA_FLAG_FIN) != 0)
        }
        callbacks.acked_stream_data_offset = { _, id, offset, length, userData, _ in
            QUICCallbacks.connection(userData).acknowledged(id, upTo: offset + length)
        }
        callbacks.stream_reset = { _, id, _, _, userData, _ in
            QUICCallbacks.connection(userData).streamReset(id)
        }
        callbacks.stream_stop_sending = { _, id, _, userData, _ in
            QUICCallbacks.connection(userData).streamReset(id)
        }
        callbacks.stream_close = { _, _, id, _, userData, _ in
            QUICCallbacks.connection(userData).streamClosed(id)
        }
    }
}
