/*
 * GGUF v2 and v3 (ggml's docs/gguf.md), little-endian only: "GGUF", u32
 * version, u64 tensor count, u64 key/value count; the key/values (a
 * string key, a u32 value type, the value; arrays hold a u32 element type,
 * a u64 count and the elements, arrays of arrays included); the tensor
 * infos (string name, u32 n_dims, u64 dims, u32 ggml type, u64 offset
 * from the data section); padding to `general.alignment` (32 unless
 * set); the data section. Strings are a u64 length and that many bytes.
 *
 * Everything before the data section is the header and must fit in
 * MODEL_MAX_HEADER; it is read through a model_cursor, so that a
 * metadata array of a million tokens costs a few reads, not a million.
 */

#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "wrapper.h"
#include "banned.h"

#define FMT "gguf"

#define MAX_KV (1u << 20)
#define MAX_ARRAY_DEPTH 4
#define MAX_KEY 65536
#define DEFAULT_ALIGNMENT 32

enum gguf_value_type {
	GV_U8, GV_I8, GV_U16, GV_I16, GV_U32, GV_I32, GV_F32, GV_BOOL,
	GV_STRING, GV_ARRAY, GV_U64, GV_I64, GV_F64,
	GV_COUNT
};

static const char *const value_type_names[GV_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
	"string", "array", "u64", "i64", "f64",
};

static const unsigned char value_type_sizes[GV_COUNT] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8,
};

/*
 * ggml's tensor types by number: name, elements per block, bytes per
 * block. Numbers ggml retired (4, 5, 31-33, 36-38) are absent.
 */
static const struct ggml_type {
	const char *name;
	unsigned block, size;
} ggml_types[] = {
	[0] = { "F32", 1, 4 },
	[1] = { "F16", 1, 2 },
	[2] = { "Q4_0", 32, 18 },
	[3] = { "Q4_1", 32, 20 },
	[6] = { "Q5_0", 32, 22 },
	[7] = { "Q5_1", 32, 24 },
	[8] = { "Q8_0", 32, 34 },
	[9] = { "Q8_1", 32, 36 },
	[10] = { "Q2_K", 256, 84 },
	[11] = { "Q3_K", 256, 110 },
	[12] = { "Q4_K", 256, 144 },
	[13] = { "Q5_K", 256, 176 },
	[14] = { "Q6_K", 256, 210 },
	[15] = { "Q8_K", 256, 292 },
	[16] = { "IQ2_XXS", 256, 66 },
	[17] = { "IQ2_XS", 256, 74 },
	[18] = { "IQ3_XXS", 256, 98 },
	[19] = { "IQ1_S", 256, 50 },
	[20] = { "IQ4_NL", 32, 18 },
	[21] = { "IQ3_S", 256, 110 },
	[22] = { "IQ2_S", 256, 82 },
	[23] = { "IQ4_XS", 256, 136 },
	[24] = { "I8", 1, 1 },
	[25] = { "I16", 1, 2 },
	[26] = { "I32", 1, 4 },
	[27] = { "I64", 1, 8 },
	[28] = { "F64", 1, 8 },
	[29] = { "IQ1_M", 256, 56 },
	[30] = { "BF16", 1, 2 },
	[34] = { "TQ1_0", 256, 54 },
	[35] = { "TQ2_0", 256, 66 },
	[39] = { "MXFP4", 32, 17 },
};

static int read_u32(struct model_cursor *c, uint32_t *v, const char *what)
{
	unsigned char b[4];

	if (model_cursor_read(c, b, 4, what))
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	     (uint32_t)b[3] << 24;
	return 0;
}

static int read_u64(struct model_cursor *c, uint64_t *v, const char *what)
{
	uint32_t lo, hi;

	if (read_u32(c, &lo, what) || read_u32(c, &hi, what))
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/*
 * A string: its first `keep` bytes at most go to `out` (if not NULL), the
 * rest is skipped; `*len` is its whole length.
 */
static int read_string(struct model_cursor *c, struct strbuf *out, size_t keep,
		       uint64_t *len, const char *what)
{
	uint64_t n, k;

	if (read_u64(c, &n, what))
		return -1;
	k = out && n > keep ? keep : out ? n : 0;
	if (out) {
		strbuf_grow(out, k);
		if (model_cursor_read(c, out->buf + out->len, k, what))
			return -1;
		strbuf_setlen(out, out->len + k);
	}
	if (len)
		*len = n;
	return model_cursor_skip(c, n - k, what);
}

/* Scalar value of type `type` as text into `out`. */
static int read_scalar(struct model_cursor *c, uint32_t type, struct strbuf *out)
{
	unsigned char b[8];
	uint64_t v = 0;
	unsigned size = value_type_sizes[type], i;

	if (model_cursor_read(c, b, size, "a metadata value"))
		return -1;
	for (i = size; i--;)
		v = v << 8 | b[i];
	switch (type) {
	case GV_U8: case GV_U16: case GV_U32: case GV_U64:
		strbuf_addf(out, "%llu", (unsigned long long)v);
		break;
	case GV_I8:
		strbuf_addf(out, "%d", (int)(int8_t)v);
		break;
	case GV_I16:
		strbuf_addf(out, "%d", (int)(int16_t)v);
		break;
	case GV_I32:
		strbuf_addf(out, "%d", (int)(int32_t)v);
		break;
	case GV_I64:
		strbuf_addf(out, "%lld", (long long)(int64_t)v);
		break;
	case GV_BOOL:
		strbuf_addstr(out, v ? "true" : "false");
		break;
	case GV_F32: {
		uint32_t u = v;
		float f;

		memcpy(&f, &u, sizeof(f));
		strbuf_addf(out, "%.9g", f);
		break;
	}
	case GV_F64: {
		double d;

		memcpy(&d, &v, sizeof(d));
		strbuf_addf(out, "%.17g", d);
		break;
	}
	}
	return 0;
}

/*
 * A value of `type`; its text (a summary for an array) goes to `out`.
 * Arrays of arrays are read to `depth` MAX_ARRAY_DEPTH.
 */
static int read_value(struct model_cursor *c, uint32_t type, struct strbuf *out,
		      unsigned depth)
{
	uint32_t elem;
	uint64_t n, i;

	if (type >= GV_COUNT) {
		strbuf_addf(c->err, FMT ": unknown metadata value type %u",
			    (unsigned)type);
		return -1;
	}
	if (type == GV_STRING)
		return read_string(c, out, 1025, NULL, "a metadata string");
	if (type != GV_ARRAY)
		return read_scalar(c, type, out);

	if (depth >= MAX_ARRAY_DEPTH) {
		strbuf_addf(c->err, FMT ": metadata arrays nested deeper than %d",
			    MAX_ARRAY_DEPTH);
		return -1;
	}
	if (read_u32(c, &elem, "an array type") ||
	    read_u64(c, &n, "an array length"))
		return -1;
	if (elem >= GV_COUNT) {
		strbuf_addf(c->err, FMT ": unknown metadata value type %u",
			    (unsigned)elem);
		return -1;
	}
	if (out)
		strbuf_addf(out, "[%llu %s]", (unsigned long long)n,
			    value_type_names[elem]);
	if (value_type_sizes[elem]) {
		if (n > MODEL_MAX_HEADER / value_type_sizes[elem]) {
			strbuf_addf(c->err,
				    FMT ": a metadata array of %llu elements is over the header limit",
				    (unsigned long long)n);
			return -1;
		}
		return model_cursor_skip(c, n * value_type_sizes[elem],
				   "a metadata array");
	}
	/* strings and arrays: at least 8 bytes each, so n is bounded */
	for (i = 0; i < n; i++)
		if (elem == GV_STRING ?
			    read_string(c, NULL, 0, NULL, "a metadata string") :
			    read_value(c, elem, NULL, depth + 1))
			return -1;
	return 0;
}

static int read_kv(struct model_cursor *c, struct model_info *info,
		   uint32_t *alignment)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	uint64_t klen;
	uint32_t type;
	int ret = -1;

	if (read_string(c, &key, MAX_KEY, &klen, "a metadata key"))
		goto out;
	if (klen > MAX_KEY) {
		strbuf_addf(c->err, FMT ": a metadata key of %llu bytes",
			    (unsigned long long)klen);
		goto out;
	}
	if (read_u32(c, &type, "a metadata value type") ||
	    read_value(c, type, &val, 0))
		goto out;
	if (!strcmp(key.buf, "general.alignment") && key.len == klen) {
		char *end;
		unsigned long a = strtoul(val.buf, &end, 10);

		if (type != GV_U32 || *end || !a || (a & (a - 1)) ||
		    a > (1u << 20)) {
			strbuf_addstr(c->err,
				      FMT ": general.alignment is not a u32 power of two up to 2^20: '");
			model_add_escaped(c->err, val.buf, val.len, 32);
			strbuf_addch(c->err, '\'');
			goto out;
		}
		*alignment = a;
	}
	model_meta_add(info, key.buf, key.len, val.buf, val.len);
	ret = 0;
out:
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

static int read_tensor_info(struct model_cursor *c, struct model_info *info)
{
	struct strbuf name = STRBUF_INIT;
	struct model_tensor *t;
	const struct ggml_type *gt;
	uint64_t nlen, nelem;
	uint32_t ndim, type;
	unsigned i;
	int ret = -1;

	if (read_string(c, &name, MODEL_MAX_NAME, &nlen, "a tensor name"))
		goto out;
	if (nlen > name.len) {
		strbuf_addf(c->err, FMT ": a tensor name of %llu bytes (at most %u)",
			    (unsigned long long)nlen, MODEL_MAX_NAME);
		goto out;
	}
	t = model_tensor_add(info, name.buf, name.len, FMT, c->err);
	if (!t)
		goto out;
	if (read_u32(c, &ndim, "a tensor's dims"))
		goto out;
	if (ndim > MODEL_MAX_DIMS) {
		strbuf_addf(c->err, FMT ": tensor '%.128s' has %u dims (at most %d)",
			    t->name, (unsigned)ndim, MODEL_MAX_DIMS);
		goto out;
	}
	t->ndim = ndim;
	for (i = 0; i < ndim; i++)
		if (read_u64(c, &t->shape[i], "a tensor's dims"))
			goto out;
	if (read_u32(c, &type, "a tensor's type") ||
	    read_u64(c, &t->offset, "a tensor's offset"))
		goto out;
	gt = type < ARRAY_SIZE(ggml_types) ? &ggml_types[type] : NULL;
	if (!gt || !gt->name) {
		strbuf_addf(c->err, FMT ": tensor '%.128s' has unknown ggml type %u",
			    t->name, (unsigned)type);
		goto out;
	}
	/* a block's bytes times the dims: no product of them overflows */
	if (model_shape_bytes(t->shape, ndim, gt->size, &nelem) ||
	    model_shape_bytes(t->shape, ndim, 1, &nelem)) {
		strbuf_addf(c->err, FMT ": tensor '%.128s' has a shape too large",
			    t->name);
		goto out;
	}
	if (ndim && t->shape[0] % gt->block) {
		strbuf_addf(c->err,
			    FMT ": tensor '%.128s' of type %s has a first dim %llu, not a multiple of %u",
			    t->name, gt->name, (unsigned long long)t->shape[0],
			    gt->block);
		goto out;
	}
	if (!ndim && gt->block != 1) {
		strbuf_addf(c->err, FMT ": tensor '%.128s' of type %s has no dims",
			    t->name, gt->name);
		goto out;
	}
	t->length = nelem / gt->block * gt->size;
	if (t->length / gt->size != nelem / gt->block) {
		strbuf_addf(c->err, FMT ": tensor '%.128s' has a shape too large",
			    t->name);
		goto out;
	}
	xsnprintf(t->dtype, sizeof(t->dtype), "%s", gt->name);
	t->elem_size = gt->block == 1 ? gt->size : 0;
	ret = 0;
out:
	strbuf_release(&name);
	return ret;
}

int gguf_read(const struct model_source *src, struct model_info *info,
	      struct strbuf *err)
{
	struct model_cursor *c = xcalloc(1, sizeof(*c));
	unsigned char magic[4];
	uint32_t version, alignment = DEFAULT_ALIGNMENT;
	uint64_t nr_tensors, nr_kv, i, data_start;
	int ret = -1;

	c->src = src;
	c->err = err;
	c->fmt = FMT;
	c->limit = MODEL_MAX_HEADER;
	if (model_cursor_read(c, magic, 4, "the magic") ||
	    read_u32(c, &version, "the version"))
		goto out;
	if (memcmp(magic, "GGUF", 4)) {
		strbuf_addstr(err, FMT ": no GGUF magic");
		goto out;
	}
	if (version != 2 && version != 3) {
		strbuf_addf(err, FMT ": version %u is not read (2 and 3 are)%s",
			    (unsigned)version,
			    version > 0xffff ? ", big-endian files are not" : "");
		goto out;
	}
	if (read_u64(c, &nr_tensors, "the tensor count") ||
	    read_u64(c, &nr_kv, "the metadata count"))
		goto out;
	if (nr_tensors > MODEL_MAX_TENSORS) {
		strbuf_addf(err, FMT ": %llu tensors (at most %u)",
			    (unsigned long long)nr_tensors, MODEL_MAX_TENSORS);
		goto out;
	}
	if (nr_kv > MAX_KV) {
		strbuf_addf(err, FMT ": %llu metadata keys (at most %u)",
			    (unsigned long long)nr_kv, MAX_KV);
		goto out;
	}
	for (i = 0; i < nr_kv; i++)
		if (read_kv(c, info, &alignment))
			goto out;
	for (i = 0; i < nr_tensors; i++)
		if (read_tensor_info(c, info))
			goto out;

	data_start = (c->off + alignment - 1) / alignment * alignment;
	if (data_start > src->size) {
		strbuf_addf(err, FMT ": the data section at %llu is past the end of the file",
			    (unsigned long long)data_start);
		goto out;
	}
	for (i = 0; i < info->nr; i++) {
		struct model_tensor *t = &info->tensors[i];

		if (t->offset % alignment ||
		    t->offset > src->size - data_start) {
			strbuf_addf(err,
				    FMT ": tensor '%.128s' has offset %llu, %s",
				    t->name, (unsigned long long)t->offset,
				    t->offset % alignment ?
					    "not a multiple of the alignment" :
					    "past the end of the file");
			goto out;
		}
		t->offset += data_start;
	}
	if (model_check_layout(info, data_start, src->size, 0, FMT, err))
		goto out;
	ret = 0;
out:
	free(c);
	return ret;
}
