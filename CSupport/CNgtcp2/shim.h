// ngtcp2 0.12 (Debian's libngtcp2-dev) with its GnuTLS crypto back end, for the QUIC v1 transport.
// ngtcp2's public entry points are function-like macros over `_versioned` functions, which Swift
// cannot import: each wrapper below is that macro, nothing more.
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <gnutls/gnutls.h>

static inline void p2p_ngtcp2_settings_default(ngtcp2_settings *settings) { ngtcp2_settings_default(settings); }
static inline void p2p_ngtcp2_transport_params_default(ngtcp2_transport_params *params) { ngtcp2_transport_params_default(params); }

/// The callbacks that ngtcp2's crypto helper library implements (packet protection, key
/// derivation, Initial secrets, Retry): the application fills in the rest.
static inline void p2p_ngtcp2_set_crypto_callbacks(ngtcp2_callbacks *cb, int client) {
    if (client) {
        cb->client_initial = ngtcp2_crypto_client_initial_cb;
        cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
    } else {
        cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    }
    cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb->encrypt = ngtcp2_crypto_encrypt_cb;
    cb->decrypt = ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
}

static inline int p2p_ngtcp2_conn_client_new(ngtcp2_conn **pconn, const ngtcp2_cid *dcid, const ngtcp2_cid *scid,
                                             const ngtcp2_path *path, uint32_t version, const ngtcp2_callbacks *callbacks,
                                             const ngtcp2_settings *settings, const ngtcp2_transport_params *params,
                                             void *user_data) {
    return ngtcp2_conn_client_new(pconn, dcid, scid, path, version, callbacks, settings, params, NULL, user_data);
}

static inline int p2p_ngtcp2_conn_server_new(ngtcp2_conn **pconn, const ngtcp2_cid *dcid, const ngtcp2_cid *scid,
                                             const ngtcp2_path *path, uint32_t version, const ngtcp2_callbacks *callbacks,
                                             const ngtcp2_settings *settings, const ngtcp2_transport_params *params,
                                             void *user_data) {
    return ngtcp2_conn_server_new(pconn, dcid, scid, path, version, callbacks, settings, params, NULL, user_data);
}

static inline int p2p_ngtcp2_conn_read_pkt(ngtcp2_conn *conn, const ngtcp2_path *path, const uint8_t *pkt, size_t pktlen,
                                           ngtcp2_tstamp ts) {
    ngtcp2_pkt_info pi = {0};
    return ngtcp2_conn_read_pkt(conn, path, &pi, pkt, pktlen, ts);
}

static inline ngtcp2_ssize p2p_ngtcp2_conn_writev_stream(ngtcp2_conn *conn, ngtcp2_path *path, uint8_t *dest, size_t destlen,
                                                         ngtcp2_ssize *pdatalen, uint32_t flags, int64_t stream_id,
                                                         const ngtcp2_vec *datav, size_t datavcnt, ngtcp2_tstamp ts) {
    return ngtcp2_conn_writev_stream(conn, path, NULL, dest, destlen, pdatalen, flags, stream_id, datav, datavcnt, ts);
}

static inline ngtcp2_ssize p2p_ngtcp2_conn_write_connection_close(ngtcp2_conn *conn, ngtcp2_path *path, uint8_t *dest,
                                                                  size_t destlen, const ngtcp2_connection_close_error *ccerr,
                                                                  ngtcp2_tstamp ts) {
    return ngtcp2_conn_write_connection_close(conn, path, NULL, dest, destlen, ccerr, ts);
}

static inline void p2p_ngtcp2_conn_get_conn_stat(ngtcp2_conn *conn, ngtcp2_conn_stat *stat) {
    ngtcp2_conn_get_conn_stat(conn, stat);
}
