#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

// `gnutls_free` is a global function pointer behind a macro, which Swift cannot call.
static inline void p2p_gnutls_free(void *pointer) { gnutls_free(pointer); }

// `GNUTLS_CURVE_TO_BITS` is a function-like macro: the "bits" that make `gnutls_x509_privkey_generate` use `curve`.
static inline unsigned int p2p_gnutls_curve_to_bits(gnutls_ecc_curve_t curve) { return GNUTLS_CURVE_TO_BITS(curve); }
