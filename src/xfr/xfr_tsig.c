// SPDX-License-Identifier: MIT
/* The TSIG signer of transfer streams (see xfr_stream.h, struct xfr_tsig): each message of an
 * AXFR or IXFR answering a signed request is signed with the request's key as it leaves, its
 * MAC chained to the previous one (RFC 8945 §5.3.1), Time Signed read from the caller's clock
 * per message. The state lives in the stream (xfr_stream.signer_state), so signing allocates
 * nothing. Runs on the worker that advances the stream. */
#include "xfr/xfr_stream.h"

_Static_assert(sizeof(struct xfr_tsig) <= XFR_SIGNER_STATE_MAX,
               "the TSIG signer's state must fit a stream's signer_state");

static size_t
tsig_sign(void *state, uint8_t *msg, size_t len, size_t max, uint32_t index, bool last)
{
    struct xfr_tsig *t = state;
    (void)index;
    (void)last;
    /* §5.3.1: "Each message MUST be signed" by a server (unlike a client, which takes up to
     * 99 unsigned ones in a row); the first covers the request MAC and every TSIG variable,
     * each later one the previous MAC, the message and the timers. */
    return tsig_stream_sign(&t->stream, msg, len, max, t->clock_s());
}

void
xfr_tsig_signer(struct xfr_signer *signer, struct xfr_tsig *init, const struct tsig_request *req,
                uint64_t (*clock_s)(void))
{
    tsig_stream_respond(&init->stream, req);
    init->clock_s = clock_s;
    *signer = (struct xfr_signer){.sign = tsig_sign,
                                  .room = tsig_key_rr_size(req->key),
                                  .init = init,
                                  .init_len = sizeof(*init)};
}
