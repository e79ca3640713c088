#pragma once
// Debian 12's OpenSSL 3 (libssl-dev to build, libssl3 to run), for the Redis TLS transport.
// Only the function-like macros Swift cannot call are wrapped here, prefixed copenssl_.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// SSL_CTX_set_min_proto_version (a macro over SSL_CTX_ctrl).
static inline int copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// SSL_set_tlsext_host_name (a macro over SSL_ctrl): the server name sent as SNI.
static inline int copenssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// ERR_GET_REASON of a packed error code.
static inline int copenssl_error_reason(unsigned long code) {
    return ERR_GET_REASON(code);
}

// SHA-256 for session digests (SessionModel.SHA256): the one-block-at-a-time API on a plain struct,
// so the hasher stays a value type with no handle to own. OpenSSL 3 marks it deprecated in favour of
// EVP; it is the same assembly (SHA-NI, AVX2) and stays in OpenSSL 3.x.
#include <openssl/sha.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline void copenssl_sha256_init(SHA256_CTX *context) { SHA256_Init(context); }
static inline void copenssl_sha256_update(SHA256_CTX *context, const void *bytes, size_t count) {
    SHA256_Update(context, bytes, count);
}
static inline void copenssl_sha256_final(unsigned char *digest, SHA256_CTX *context) { SHA256_Final(digest, context); }
#pragma GCC diagnostic pop
