// SPDX-License-Identifier: MIT
/* Test RRsets from presentation text (see dnssec_test.h). ldns parses; its wire RDATA is
 * copied out with the names as they were written (no lowercasing, no compression). */
#include "dnssec_test.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"

static ldns_rr *
parse(const char *text)
{
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
        return NULL;
    return rr;
}

static int
rr_rdata(const ldns_rr *rr, uint8_t *out, size_t max)
{
    int len = -1;
    ldns_buffer *buf = ldns_buffer_new(512);
    if (buf && ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK &&
        ldns_buffer_position(buf) <= max) {
        len = (int)ldns_buffer_position(buf);
        memcpy(out, ldns_buffer_begin(buf), (size_t)len);
    }
    ldns_buffer_free(buf);
    return len;
}

int
t_rdata(const char *text, uint8_t *out, size_t max, uint16_t *type)
{
    ldns_rr *rr = parse(text);
    if (!rr)
        return -1;
    int len = rr_rdata(rr, out, max);
    if (type)
        *type = (uint16_t)ldns_rr_get_type(rr);
    ldns_rr_free(rr);
    return len;
}

int
t_rrset_add(struct t_rrset *set, const char *text)
{
    int ret = -1;
    ldns_rr *rr = parse(text);
    if (!rr || set->len + 2 > sizeof(set->rdata))
        goto out;
    int len = rr_rdata(rr, set->rdata + set->len + 2, sizeof(set->rdata) - set->len - 2);
    if (len < 0)
        goto out;
    if (set->count == 0) {
        const ldns_rdf *owner = ldns_rr_owner(rr);
        memcpy(set->owner, ldns_rdf_data(owner), ldns_rdf_size(owner));
        set->type = (uint16_t)ldns_rr_get_type(rr);
        set->rclass = (uint16_t)ldns_rr_get_class(rr);
        set->ttl = ldns_rr_ttl(rr);
    }
    dnswire_put16(set->rdata + set->len, (uint16_t)len);
    set->len += 2 + (size_t)len;
    set->count++;
    ret = 0;
out:
    ldns_rr_free(rr);
    return ret;
}

const uint8_t *
t_name(const char *text, uint8_t buf[DNAME_MAX_LEN])
{
    if (dname_from_text(text, buf) < 0)
        abort();
    return buf;
}
