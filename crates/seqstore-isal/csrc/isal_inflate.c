/*
 * The few ISA-L igzip calls seqstore makes, behind an opaque pointer, so that Rust never
 * depends on the layout of `struct inflate_state` (it changes between ISA-L releases).
 * Built by build.rs only when the ISA-L headers are found (Debian: libisal-dev).
 */
#include <stdint.h>
#include <stdlib.h>

#include <isa-l/igzip_lib.h>

/*
 * A state for the rest of a gzip member after its header: the deflate data, then the
 * trailer, whose CRC32 and ISIZE ISA-L checks (ISAL_GZIP_NO_HDR_VER). NULL when out of
 * memory. ISA-L 2.30 parses gzip headers wrongly when one spans calls (FNAME, FEXTRA,
 * FHCRC), so the caller reads the header itself.
 */
struct inflate_state *seqstore_isal_new(void)
{
	struct inflate_state *state = malloc(sizeof *state);
	if (state != NULL) {
		isal_inflate_init(state);
		state->crc_flag = ISAL_GZIP_NO_HDR_VER;
	}
	return state;
}

void seqstore_isal_free(struct inflate_state *state)
{
	free(state);
}

/* Ready for the data of the next member, after its header. */
void seqstore_isal_reset(struct inflate_state *state)
{
	isal_inflate_reset(state);
	state->crc_flag = ISAL_GZIP_NO_HDR_VER;
}

/*
 * Inflates from `in` into `out`. On return *in_len is the number of input bytes consumed
 * (bytes read ahead past the member's trailer are given back) and *out_len the number
 * written; *finished is 1 once the trailer has been checked.
 * Returns ISA-L's status: 0 or a negative ISAL_* error.
 */
int seqstore_isal_inflate(struct inflate_state *state, const uint8_t *in, uint32_t *in_len,
			  uint8_t *out, uint32_t *out_len, int *finished)
{
	state->next_in = (uint8_t *)in;
	state->avail_in = *in_len;
	state->next_out = out;
	state->avail_out = *out_len;
	int status = isal_inflate(state);
	*in_len -= state->avail_in;
	*out_len -= state->avail_out;
	*finished = state->block_state == ISAL_BLOCK_FINISH;
	return status;
}
