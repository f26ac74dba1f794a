#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

// `gnutls_free` is a global function pointer behind a macro, which Swift cannot call.
static inline void p2p_gnutls_free(void *pointer) { gnutls_free(pointer); }
