/*
 * .safetensors: a u64le header length N, N bytes of JSON, then the data
 * section. The JSON maps each tensor name to {"dtype", "shape",
 * "data_offsets": [begin, end]} (offsets relative to the data section),
 * plus an optional "__metadata__" object of strings. As in the reference
 * implementation, the tensors' byte ranges must tile the data section
 * exactly: no overlap, no hole, nothing after the last one.
 */

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "wrapper.h"
#include "banned.h"

#define FMT "safetensors"

/* The header nests three deep (root, tensor, shape); a little slack. */
#define MAX_DEPTH 8

/* A non-negative JSON integer into `*out`; -1 for anything else. */
static int get_u64(struct json_object *o, uint64_t *out)
{
	if (!json_object_is_type(o, json_type_int) ||
	    json_object_get_int64(o) < 0)
		return -1;
	*out = json_object_get_uint64(o);
	return 0;
}

static int read_metadata(struct model_info *info, struct json_object *meta,
			 struct strbuf *err)
{
	if (!json_object_is_type(meta, json_type_object)) {
		strbuf_addstr(err, FMT ": __metadata__ is not an object");
		return -1;
	}
	json_object_object_foreach(meta, key, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			strbuf_addstr(err, FMT ": __metadata__ value of '");
			model_add_escaped(err, key, strlen(key), 64);
			strbuf_addstr(err, "' is not a string");
			return -1;
		}
		model_meta_add(info, key, strlen(key),
			       json_object_get_string(val),
			       json_object_get_string_len(val));
	}
	return 0;
}

static int read_tensor(struct model_info *info, const char *name,
		       struct json_object *desc, uint64_t data_start,
		       uint64_t data_size, struct strbuf *err)
{
	struct json_object *dtype, *shape, *offsets;
	struct model_tensor *t;
	uint64_t begin, end, bytes;
	size_t i, n;

	t = model_tensor_add(info, name, strlen(name), FMT, err);
	if (!t)
		return -1;
	if (!json_object_is_type(desc, json_type_object) ||
	    !json_object_object_get_ex(desc, "dtype", &dtype) ||
	    !json_object_object_get_ex(desc, "shape", &shape) ||
	    !json_object_object_get_ex(desc, "data_offsets", &offsets) ||
	    !json_object_is_type(dtype, json_type_string) ||
	    !json_object_is_type(shape, json_type_array) ||
	    !json_object_is_type(offsets, json_type_array)) {
		strbuf_addf(err,
			    FMT ": tensor '%.128s' lacks a dtype string, a shape or data_offsets array",
			    name);
		return -1;
	}
	if (model_tensor_set_dtype(t, json_object_get_string(dtype))) {
		strbuf_addf(err, FMT ": tensor '%.128s' has unknown dtype '",
			    name);
		model_add_escaped(err, json_object_get_string(dtype),
				  json_object_get_string_len(dtype), 32);
		strbuf_addch(err, '\'');
		return -1;
	}
	n = json_object_array_length(shape);
	if (n > MODEL_MAX_DIMS) {
		strbuf_addf(err, FMT ": tensor '%.128s' has %zu dims (at most %d)",
			    name, n, MODEL_MAX_DIMS);
		return -1;
	}
	t->ndim = n;
	for (i = 0; i < n; i++)
		if (get_u64(json_object_array_get_idx(shape, i), &t->shape[i])) {
			strbuf_addf(err,
				    FMT ": tensor '%.128s' has a shape that is not non-negative integers",
				    name);
			return -1;
		}
	if (json_object_array_length(offsets) != 2 ||
	    get_u64(json_object_array_get_idx(offsets, 0), &begin) ||
	    get_u64(json_object_array_get_idx(offsets, 1), &end)) {
		strbuf_addf(err,
			    FMT ": tensor '%.128s' data_offsets is not two non-negative integers",
			    name);
		return -1;
	}
	if (end < begin || end > data_size) {
		strbuf_addf(err,
			    FMT ": tensor '%.128s' data_offsets [%llu, %llu] not inside the %llu bytes of data",
			    name, (unsigned long long)begin,
			    (unsigned long long)end,
			    (unsigned long long)data_size);
		return -1;
	}
	if (model_shape_bytes(t->shape, t->ndim, t->elem_size, &bytes)) {
		strbuf_addf(err, FMT ": tensor '%.128s' has a shape too large",
			    name);
		return -1;
	}
	if (bytes != end - begin) {
		strbuf_addf(err,
			    FMT ": tensor '%.128s' has %llu bytes of data, its dtype and shape need %llu",
			    name, (unsigned long long)(end - begin),
			    (unsigned long long)bytes);
		return -1;
	}
	t->offset = data_start + begin;
	t->length = end - begin;
	return 0;
}

int safetensors_read(const struct model_source *src, struct model_info *info,
		     struct strbuf *err)
{
	unsigned char len8[8];
	uint64_t hlen = 0, data_start, data_size;
	char *header = NULL;
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	size_t end, i;
	int ret = -1;

	if (model_src_read(src, 0, len8, 8, FMT, "the header length", err))
		goto out;
	for (i = 8; i--;)
		hlen = hlen << 8 | len8[i];
	if (hlen > src->size - 8) {
		strbuf_addf(err,
			    FMT ": header length %llu is larger than the file (%llu bytes)",
			    (unsigned long long)hlen,
			    (unsigned long long)src->size);
		goto out;
	}
	if (hlen > MODEL_MAX_HEADER) {
		strbuf_addf(err, FMT ": header length %llu is over the limit of %u",
			    (unsigned long long)hlen, MODEL_MAX_HEADER);
		goto out;
	}
	header = xmalloc(hlen + 1);
	if (model_src_read(src, 8, header, hlen, FMT, "the header", err))
		goto out;
	header[hlen] = '\0';
	if (!hlen || header[0] != '{') {
		strbuf_addstr(err, FMT ": the header is not a JSON object");
		goto out;
	}

	tok = json_tokener_new_ex(MAX_DEPTH);
	if (!tok) {
		strbuf_addstr(err, FMT ": out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, header, (int)hlen);
	if (!root) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		strbuf_addf(err, FMT ": the header is not valid JSON: %s%s",
			    jerr == json_tokener_continue ?
				    "it ends early" :
				    json_tokener_error_desc(jerr),
			    jerr == json_tokener_error_depth ?
				    " (nested too deep)" :
				    "");
		goto out;
	}
	/* the writer pads the header with spaces; nothing else may follow */
	for (end = json_tokener_get_parse_end(tok); end < hlen; end++)
		if (header[end] != ' ' && header[end] != '\t' &&
		    header[end] != '\n' && header[end] != '\r') {
			strbuf_addstr(err,
				      FMT ": the header has bytes after its JSON object");
			goto out;
		}
	if (!json_object_is_type(root, json_type_object)) {
		strbuf_addstr(err, FMT ": the header is not a JSON object");
		goto out;
	}

	data_start = 8 + hlen;
	data_size = src->size - data_start;
	json_object_object_foreach(root, key, val)
	{
		if (!strcmp(key, "__metadata__")) {
			if (read_metadata(info, val, err))
				goto out;
			continue;
		}
		if (read_tensor(info, key, val, data_start, data_size, err))
			goto out;
	}
	if (model_check_layout(info, data_start, src->size, 1, FMT, err))
		goto out;
	ret = 0;
out:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	free(header);
	return ret;
}
