#include "safetensors-write.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "wrapper.h"
#include "banned.h"

static void json_string(const char *s, struct strbuf *out)
{
	const unsigned char *p;

	strbuf_addch(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addf(out, "\\%c", *p);
		else if (*p < 0x20)
			strbuf_addf(out, "\\u%04x", *p);
		else
			strbuf_addch(out, *p);
	}
	strbuf_addch(out, '"');
}

uint64_t safetensors_header(const struct model_tensor *const *tensors,
			    size_t nr, const char *metadata,
			    struct strbuf *out)
{
	struct strbuf json = STRBUF_INIT;
	uint64_t off = 0, len;
	size_t i;
	unsigned d;
	int k;

	strbuf_addch(&json, '{');
	if (metadata && *metadata)
		strbuf_addf(&json, "\"__metadata__\":%s", metadata);
	for (i = 0; i < nr; i++) {
		const struct model_tensor *t = tensors[i];

		if (json.len > 1)
			strbuf_addch(&json, ',');
		json_string(t->name, &json);
		strbuf_addf(&json, ":{\"dtype\":\"%s\",\"shape\":[", t->dtype);
		for (d = 0; d < t->ndim && d < MODEL_MAX_DIMS; d++)
			strbuf_addf(&json, "%s%" PRIu64, d ? "," : "",
				    t->shape[d]);
		strbuf_addf(&json, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64
				   "]}",
			    off, off + t->length);
		off += t->length;
	}
	strbuf_addch(&json, '}');
	while (json.len % 8)
		strbuf_addch(&json, ' ');
	len = json.len;
	for (k = 0; k < 8; k++)
		strbuf_addch(out, (char)(len >> (8 * k)));
	strbuf_add(out, json.buf, json.len);
	strbuf_release(&json);
	return off;
}

int safetensors_metadata_json(const struct model_source *src,
			      struct strbuf *out, struct strbuf *err)
{
	unsigned char head[8];
	uint64_t len = 0;
	char *text = NULL;
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL, *meta;
	int k, ret = -1;

	if (src->size < 8 || src->read_at(src->ctx, 0, head, 8) < 0)
		goto fail;
	for (k = 7; k >= 0; k--)
		len = len << 8 | head[k];
	if (len > MODEL_MAX_HEADER || len > src->size - 8)
		goto fail;
	text = xmalloc(len + 1);
	if (src->read_at(src->ctx, 8, text, len) < 0)
		goto fail;
	tok = json_tokener_new_ex(64);
	if (!tok)
		goto fail;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || !json_object_is_type(root, json_type_object))
		goto fail;
	if (json_object_object_get_ex(root, "__metadata__", &meta))
		strbuf_addstr(out, json_object_to_json_string_ext(
					   meta, JSON_C_TO_STRING_PLAIN));
	ret = 0;
	goto cleanup;
fail:
	strbuf_addstr(err, "safetensors: cannot read the header's metadata");
cleanup:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	free(text);
	return ret;
}
