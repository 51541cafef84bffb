/*
 * Wire codec: limits, validation of events and batches, and pack/unpack
 * helpers over the protobuf-c generated code (proto/opspulse.proto).
 * Both sides validate with the same code: the agent before it spools an
 * event, the aggregator before it stores one.
 */
#ifndef OP_CODEC_H
#define OP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "opspulse.pb-c.h"
#include "op_error.h"

typedef Opspulse__V1__Envelope op_envelope;
typedef Opspulse__V1__Reply op_reply;
typedef Opspulse__V1__Batch op_batch;
typedef Opspulse__V1__Event op_event;

/* Protocol versions this build speaks. */
#define OP_PROTOCOL_VERSION     1
#define OP_PROTOCOL_VERSION_MIN 1

/* Limits (SPEC §3).  Every message, string, batch and time is bounded. */
#define OP_MAX_MESSAGE_BYTES (8u << 20)
/* The transport's hard cap.  A message between the two limits gets an
 * error reply saying so; past this one nng drops the connection. */
#define OP_MAX_WIRE_BYTES   (4 * OP_MAX_MESSAGE_BYTES)
#define OP_MAX_BATCH_EVENTS 10000
#define OP_MAX_NAME         128 /* service, operator, component, version */
#define OP_MAX_ENV          64
#define OP_MAX_HOST         255
#define OP_MAX_ID           256  /* deploy, maintenance ids; fingerprints */
#define OP_MAX_TEXT         1024 /* task, title, alertname, mount */
#define OP_MAX_DURATION_S   (31LL * 86400)
#define OP_MAX_FUTURE_US    (86400LL * 1000000)        /* one day */
#define OP_MAX_DUE_US       (3653LL * 86400 * 1000000) /* ten years */

/*
 * Checks one event against the limits and rules of SPEC §2-3, with now_us
 * as the receiver's clock.  Returns OP_OK, or OP_EINVAL with a message
 * naming the field in err.  This can't fail otherwise.
 */
OP_MUSTCHECK int op_event_validate(const op_event *e, int64_t now_us, char *err,
                                   size_t errsz);

/*
 * Checks a batch and each of its events.  On OP_EINVAL, *bad_index is the
 * offending event (-1 for the batch itself) and err says why.
 */
OP_MUSTCHECK int op_batch_validate(const op_batch *b, int64_t now_us,
                                   int *bad_index, char *err, size_t errsz);

/* Which rule a message broke, for counting rejections by reason.  Events
 * carry no free-form labels, so there is no label-count limit. */
enum op_limit {
	OP_LIMIT_NONE,       /* none: the message is valid */
	OP_LIMIT_BATCH_SIZE, /* more than OP_MAX_BATCH_EVENTS events */
	OP_LIMIT_STRING,     /* a string longer than its limit */
	OP_LIMIT_TIME,       /* a time outside its range (SPEC §3) */
	OP_LIMIT_FIELD,      /* any other rule: missing, unknown, not UTF-8 */
};

/* op_batch_validate that also says which rule failed, in *limit
 * (OP_LIMIT_NONE on OP_OK). */
OP_MUSTCHECK int op_batch_check(const op_batch *b, int64_t now_us,
                                int *bad_index, enum op_limit *limit, char *err,
                                size_t errsz);

/*
 * Packs any message into a malloc'd buffer (*out, *len); the caller frees
 * it with free().  Returns OP_OK or OP_ENOMEM.
 */
OP_MUSTCHECK int op_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len);

/* Event kind as the import format names it ("deploy", "toil", ...). */
const char *op_event_kind_name(const op_event *e);

/* Outcome names: "success", "failed", "rolled_back", "cancelled". */
const char *op_outcome_name(Opspulse__V1__Outcome o);
/* Returns OP_OK and sets *o, or OP_EINVAL for an unknown name. */
OP_MUSTCHECK int op_outcome_parse(const char *name, Opspulse__V1__Outcome *o);

const char *op_toil_source_name(Opspulse__V1__ToilSource s);
const char *op_maintenance_status_name(Opspulse__V1__MaintenanceStatus s);
OP_MUSTCHECK int
op_maintenance_status_parse(const char *name,
                            Opspulse__V1__MaintenanceStatus *s);

/* Action item statuses: "open", "done", "cancelled". */
const char *op_action_status_name(Opspulse__V1__ActionStatus s);
OP_MUSTCHECK int op_action_status_parse(const char *name,
                                        Opspulse__V1__ActionStatus *s);

/* Readiness check results: "pass", "fail", "exempt". */
const char *op_check_result_name(Opspulse__V1__CheckResult r);
OP_MUSTCHECK int op_check_result_parse(const char *name,
                                       Opspulse__V1__CheckResult *r);

/* The mask bit of an Incident field (Opspulse__V1__IncidentField). */
#define OP_INCIDENT_BIT(f)                                                     \
	(UINT32_C(1) << (OPSPULSE__V1__INCIDENT_FIELD__INCIDENT_FIELD_##f))

#endif
