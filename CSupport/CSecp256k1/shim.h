#include <secp256k1.h>

// Swift 6 refuses to read an imported C global pointer, so the library's read-only static
// context (enough for parsing and verification, libsecp256k1 0.2.0 and newer) comes from here.
static inline const secp256k1_context *p2p_secp256k1_context_static(void) { return secp256k1_context_static; }
