/*
 * Fuzz target for the wire format: whatever arrives on a socket is
 * unpacked as the aggregator unpacks requests (Envelope, whose batches are
 * validated) and as the agent and CLI unpack replies (Reply, whose query
 * results the CLI renders).  Nothing may crash, leak or read out of
 * bounds; validation must agree with itself; and a message that unpacked
 * must pack back to bytes that unpack to the same packing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "op_codec.h"
#include "op_error.h"
#include "fuzz.h"

/* 2026-10-05T09:30:00Z: a fixed clock keeps runs reproducible. */
#define FUZZ_NOW (INT64_C(1791192600) * 1000000)

/* Validation of a batch must match validation of its events one by one. */
static void
fuzz_batch(const op_batch *b)
{
	char err[512] = "", why[512];
	int bad = -2;
	int rv = op_batch_validate(b, FUZZ_NOW, &bad, err, sizeof(err));

	FUZZ_CHECK(rv == OP_OK || rv == OP_EINVAL);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rv == OP_OK) {
		FUZZ_CHECK(bad == -1);
		for (size_t i = 0; i < b->n_events; i++)
			FUZZ_CHECK(op_event_validate(b->events[i], FUZZ_NOW,
			                             why,
			                             sizeof(why)) == OP_OK);
		return;
	}
	FUZZ_CHECK(err[0] != '\0');
	FUZZ_CHECK(bad >= -1 && (bad == -1 || (size_t)bad < b->n_events));
	if (bad >= 0) {
		FUZZ_CHECK(op_event_validate(b->events[bad], FUZZ_NOW, why,
		                             sizeof(why)) == OP_EINVAL);
		FUZZ_CHECK(op_event_kind_name(b->events[bad]) != NULL);
	}
}

/* Does m, or any message inside it, hold fields unknown to this build? */
static int
fuzz_has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	if (m->n_unknown_fields)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *q = base + f->quantifier_offset;
		const void *v = base + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		     *(const uint32_t *)q != f->id))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			ProtobufCMessage *const *sub =
			    *(ProtobufCMessage *const *const *)v;
			for (size_t k = 0; k < *(const size_t *)q; k++) {
				if (fuzz_has_unknown(sub[k]))
					return 1;
			}
		} else if (*(ProtobufCMessage *const *)v != NULL &&
		           fuzz_has_unknown(*(ProtobufCMessage *const *)v)) {
			return 1;
		}
	}
	return 0;
}

/*
 * Packs m, unpacks the result and packs again: the two must be equal.  The
 * agent's sender repacks spooled events this way.  Unknown fields are left
 * out: protobuf-c keeps them as they came, including keys it would reject
 * in their shortest form (field 0 written as a two-byte varint).
 */
static void
fuzz_repack(const ProtobufCMessage *m)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	ProtobufCMessage *again;

	if (fuzz_has_unknown(m))
		return;
	FUZZ_CHECK(op_pack(m, &a, &alen) == OP_OK);
	again = protobuf_c_message_unpack(m->descriptor, NULL, alen, a);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(op_pack(again, &b, &blen) == OP_OK);
	FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	protobuf_c_message_free_unpacked(again, NULL);
	free(a);
	free(b);
}

static void
fuzz_render(const Opspulse__V1__QueryResult *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		return;
	cli_render(fp, CLI_TABLE, "fuzz", r);
	cli_render(fp, CLI_JSON, "fuzz", r);
	cli_render(fp, CLI_CSV, "fuzz", r);
	cli_render(fp, CLI_MARKDOWN, "fuzz", r);
	fclose(fp);
	free(text);
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	op_envelope *env = opspulse__v1__envelope__unpack(NULL, size, data);

	if (env == NULL)
		return;
	if (env->body_case == OPSPULSE__V1__ENVELOPE__BODY_BATCH)
		fuzz_batch(env->batch);
	fuzz_repack(&env->base);
	opspulse__v1__envelope__free_unpacked(env, NULL);
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
	op_reply *r = opspulse__v1__reply__unpack(NULL, size, data);

	if (r == NULL)
		return;
	if (r->body_case == OPSPULSE__V1__REPLY__BODY_RESULT)
		fuzz_render(r->result);
	fuzz_repack(&r->base);
	opspulse__v1__reply__free_unpacked(r, NULL);
}

/* A spooled record is one Event, which the sender validates again. */
static void
fuzz_event(const uint8_t *data, size_t size)
{
	op_event *e = opspulse__v1__event__unpack(NULL, size, data);
	char err[512];

	if (e == NULL)
		return;
	FUZZ_CHECK(op_event_validate(e, FUZZ_NOW, err, sizeof(err)) == OP_OK ||
	           err[0] != '\0');
	opspulse__v1__event__free_unpacked(e, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > OP_MAX_MESSAGE_BYTES)
		return 0; /* the transport refuses these before unpacking */
	fuzz_request(data, size);
	fuzz_reply(data, size);
	fuzz_event(data, size);
	return 0;
}
