#include "model-format.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model-reader.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

/* How model_decode() turns an element into a double. */
enum elem_kind {
	KIND_NONE, /* block-quantized: bytes only */
	KIND_FLOAT, /* IEEE binary32/64 */
	KIND_MINI, /* a narrower float: `ebits` exponent, `mbits` mantissa */
	KIND_BF16,
	KIND_SINT,
	KIND_UINT,
};

static const struct dtype {
	const char *name;
	unsigned size;
	enum elem_kind kind;
	unsigned char ebits, mbits, ieee; /* KIND_MINI: IEEE inf/NaN or FN */
} dtypes[] = {
	{ "F64", 8, KIND_FLOAT },
	{ "F32", 4, KIND_FLOAT },
	{ "F16", 2, KIND_MINI, 5, 10, 1 },
	{ "BF16", 2, KIND_BF16 },
	{ "F8_E4M3", 1, KIND_MINI, 4, 3, 0 },
	{ "F8_E5M2", 1, KIND_MINI, 5, 2, 1 },
	{ "I64", 8, KIND_SINT },
	{ "I32", 4, KIND_SINT },
	{ "I16", 2, KIND_SINT },
	{ "I8", 1, KIND_SINT },
	{ "U64", 8, KIND_UINT },
	{ "U32", 4, KIND_UINT },
	{ "U16", 2, KIND_UINT },
	{ "U8", 1, KIND_UINT },
	{ "BOOL", 1, KIND_UINT },
};

static const struct dtype *dtype_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dtypes); i++)
		if (!strcmp(dtypes[i].name, name))
			return &dtypes[i];
	return NULL;
}

unsigned model_dtype_size(const char *dtype)
{
	const struct dtype *d = dtype_find(dtype);

	return d ? d->size : 0;
}

static uint64_t get_le(const unsigned char *p, unsigned size)
{
	uint64_t v = 0;

	while (size--)
		v = v << 8 | p[size];
	return v;
}

static double minifloat(uint64_t v, unsigned ebits, unsigned mbits, int ieee)
{
	uint64_t e = (v >> mbits) & ((1u << ebits) - 1);
	uint64_t m = v & ((1u << mbits) - 1);
	int bias = (1 << (ebits - 1)) - 1;
	double r;

	if (e == (1u << ebits) - 1 && (ieee || m == (1u << mbits) - 1))
		r = ieee && !m ? INFINITY : NAN;
	else if (!e)
		r = ldexp((double)m, 1 - bias - (int)mbits);
	else
		r = ldexp((double)(m | 1u << mbits), (int)e - bias - (int)mbits);
	return (v >> (ebits + mbits)) & 1 ? -r : r;
}

int model_decode(const char *dtype, const void *buf, size_t n, double *out)
{
	const struct dtype *d = dtype_find(dtype);
	const unsigned char *p = buf;
	size_t i;

	if (!d || d->kind == KIND_NONE)
		return -1;
	for (i = 0; i < n; i++, p += d->size) {
		uint64_t v = get_le(p, d->size);

		switch (d->kind) {
		case KIND_FLOAT:
			if (d->size == 4) {
				uint32_t u = v;
				float f;

				memcpy(&f, &u, sizeof(f));
				out[i] = f;
			} else {
				memcpy(&out[i], &v, sizeof(double));
			}
			break;
		case KIND_MINI:
			out[i] = minifloat(v, d->ebits, d->mbits, d->ieee);
			break;
		case KIND_BF16: {
			uint32_t u = (uint32_t)v << 16;
			float f;

			memcpy(&f, &u, sizeof(f));
			out[i] = f;
			break;
		}
		case KIND_SINT:
			if (d->size < 8 && v >> (d->size * 8 - 1))
				v |= ~(uint64_t)0 << (d->size * 8);
			out[i] = (double)(int64_t)v;
			break;
		case KIND_UINT:
			out[i] = (double)v;
			break;
		case KIND_NONE:
			BUG("KIND_NONE decoded");
		}
	}
	return 0;
}

int model_tensor_set_dtype(struct model_tensor *t, const char *dtype)
{
	const struct dtype *d = dtype_find(dtype);

	if (!d)
		return -1;
	xsnprintf(t->dtype, sizeof(t->dtype), "%s", d->name);
	t->elem_size = d->size;
	return 0;
}

int model_shape_bytes(const uint64_t *shape, unsigned ndim, uint64_t elem_size,
		      uint64_t *out)
{
	uint64_t n = elem_size;
	unsigned i;
	int empty = 0;

	for (i = 0; i < ndim; i++) {
		if (!shape[i]) {
			empty = 1;
			continue;
		}
		if (n > UINT64_MAX / shape[i])
			return -1;
		n *= shape[i];
	}
	*out = empty ? 0 : n;
	return 0;
}

void model_info_release(struct model_info *info)
{
	size_t i;

	for (i = 0; i < info->nr; i++)
		free(info->tensors[i].name);
	free(info->tensors);
	info->tensors = NULL;
	info->nr = info->alloc = 0;
	info->format = MODEL_FORMAT_UNKNOWN;
	strbuf_release(&info->metadata);
}

const char *model_format_name(enum model_format f)
{
	switch (f) {
	case MODEL_FORMAT_SAFETENSORS:
		return "safetensors";
	case MODEL_FORMAT_TORCH_ZIP:
		return "pytorch (zip)";
	case MODEL_FORMAT_TORCH_LEGACY:
		return "pytorch (legacy)";
	case MODEL_FORMAT_GGUF:
		return "gguf";
	case MODEL_FORMAT_ONNX:
		return "onnx";
	case MODEL_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

/*
 * ONNX has no magic: a ModelProto starts with ir_version (field 1, a
 * small varint) followed by another field of ModelProto, as every
 * exporter writes it.
 */
static int looks_like_onnx(const unsigned char *head, size_t len)
{
	unsigned field;

	if (len < 3 || head[0] != 0x08 || !head[1] || head[1] > 0x20)
		return 0;
	field = head[2] >> 3;
	return field >= 2 && field <= 20 &&
	       ((head[2] & 7) == 0 || (head[2] & 7) == 2);
}

enum model_format model_format_detect(const unsigned char *head, size_t len,
				      uint64_t size)
{
	if (len >= 4 && !memcmp(head, "GGUF", 4))
		return MODEL_FORMAT_GGUF;
	if (len >= 4 && !memcmp(head, "PK\003\004", 4))
		return MODEL_FORMAT_TORCH_ZIP;
	/*
	 * a header length, then a JSON object; the length is not checked
	 * here, so that a lying one is reported by the reader. Before the
	 * pickle: a length of 0x280 starts as a PROTO 2 opcode does, while
	 * legacy torch's pickle has its magic number (LONG1) there.
	 */
	if (len >= 9 && head[8] == '{' && get_le(head, 8) >= 2)
		return MODEL_FORMAT_SAFETENSORS;
	/* a pickle's PROTO opcode: torch.save() before 1.6 */
	if (len >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
		return MODEL_FORMAT_TORCH_LEGACY;
	if (looks_like_onnx(head, len))
		return MODEL_FORMAT_ONNX;
	return MODEL_FORMAT_UNKNOWN;
}

int model_src_read(const struct model_source *src, uint64_t off, void *buf,
		   size_t len, const char *fmt, const char *what,
		   struct strbuf *err)
{
	if (off > src->size || len > src->size - off) {
		strbuf_addf(err,
			    "%s: %s at %llu (%llu bytes) is past the end of the file",
			    fmt, what, (unsigned long long)off,
			    (unsigned long long)len);
		return -1;
	}
	if (!len)
		return 0;
	if (src->read_at(src->ctx, off, buf, len) < 0) {
		strbuf_addf(err, "%s: cannot read %s", fmt, what);
		return -1;
	}
	return 0;
}

static int cursor_check(struct model_cursor *c, uint64_t len,
			const char *what)
{
	if (c->off > c->limit || len > c->limit - c->off) {
		strbuf_addf(c->err, "%s: %s at %llu is past the %s", c->fmt,
			    what, (unsigned long long)c->off,
			    c->limit < c->src->size ? "header limit" :
						      "end of the file");
		return -1;
	}
	if (c->off > c->src->size || len > c->src->size - c->off) {
		strbuf_addf(c->err, "%s: %s at %llu is past the end of the file",
			    c->fmt, what, (unsigned long long)c->off);
		return -1;
	}
	return 0;
}

int model_cursor_read(struct model_cursor *c, void *buf, size_t len,
		      const char *what)
{
	unsigned char *p = buf;

	if (cursor_check(c, len, what))
		return -1;
	while (len) {
		size_t n;

		if (c->off < c->win_off || c->off >= c->win_off + c->win_len) {
			uint64_t left = c->src->size - c->off;

			n = left < sizeof(c->win) ? left : sizeof(c->win);
			if (model_src_read(c->src, c->off, c->win, n, c->fmt,
					   what, c->err))
				return -1;
			c->win_off = c->off;
			c->win_len = n;
		}
		n = c->win_off + c->win_len - c->off;
		if (n > len)
			n = len;
		memcpy(p, c->win + (c->off - c->win_off), n);
		p += n;
		c->off += n;
		len -= n;
	}
	return 0;
}

int model_cursor_skip(struct model_cursor *c, uint64_t len, const char *what)
{
	if (cursor_check(c, len, what))
		return -1;
	c->off += len;
	return 0;
}

struct model_tensor *model_tensor_add(struct model_info *info,
				      const char *name, size_t len,
				      const char *fmt, struct strbuf *err)
{
	struct model_tensor *t;
	size_t i;

	if (info->nr >= MODEL_MAX_TENSORS) {
		strbuf_addf(err, "%s: more than %u tensors", fmt,
			    MODEL_MAX_TENSORS);
		return NULL;
	}
	if (!len || len > MODEL_MAX_NAME) {
		strbuf_addf(err, "%s: a tensor name of %zu bytes (1 to %u)",
			    fmt, len, MODEL_MAX_NAME);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c < 0x20 || c == 0x7f) {
			strbuf_addf(err,
				    "%s: a tensor name holds control character 0x%02x",
				    fmt, c);
			return NULL;
		}
	}
	ALLOC_GROW(info->tensors, info->nr + 1, info->alloc);
	t = &info->tensors[info->nr++];
	memset(t, 0, sizeof(*t));
	t->name = xstrndup(name, len);
	t->contiguous = 1;
	return t;
}

static int cmp_by_offset(const void *a, const void *b)
{
	const struct model_tensor *x = *(const struct model_tensor *const *)a;
	const struct model_tensor *y = *(const struct model_tensor *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->length != y->length)
		return x->length < y->length ? -1 : 1;
	return 0;
}

int model_check_layout(const struct model_info *info, uint64_t start,
		       uint64_t end, int exact, const char *fmt,
		       struct strbuf *err)
{
	const struct model_tensor **by = xcalloc(info->nr + 1, sizeof(*by));
	uint64_t at = start;
	size_t i, n = 0;
	int ret = -1;

	for (i = 0; i < info->nr; i++)
		if (info->tensors[i].length || exact)
			by[n++] = &info->tensors[i];
	qsort(by, n, sizeof(*by), cmp_by_offset);
	for (i = 0; i < n; i++) {
		const struct model_tensor *t = by[i];

		if (t->offset < at || (exact && t->offset != at)) {
			strbuf_addf(err,
				    "%s: tensor '%.128s' data at %llu %s, the previous data ends at %llu",
				    fmt, t->name, (unsigned long long)t->offset,
				    t->offset < at ? "overlaps" : "leaves a hole",
				    (unsigned long long)at);
			goto out;
		}
		if (t->offset > end || t->length > end - t->offset) {
			strbuf_addf(err,
				    "%s: tensor '%.128s' data at %llu (%llu bytes) is past the end of its section at %llu",
				    fmt, t->name, (unsigned long long)t->offset,
				    (unsigned long long)t->length,
				    (unsigned long long)end);
			goto out;
		}
		at = t->offset + t->length;
	}
	if (exact && at != end) {
		strbuf_addf(err,
			    "%s: the tensors' data ends at %llu, its section at %llu",
			    fmt, (unsigned long long)at,
			    (unsigned long long)end);
		goto out;
	}
	ret = 0;
out:
	free(by);
	return ret;
}

#define META_VALUE_MAX 1024

void model_add_escaped(struct strbuf *sb, const char *s, size_t len,
		       size_t max)
{
	size_t i;

	if (len > max)
		len = max;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\\')
			strbuf_addstr(sb, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else
			strbuf_addch(sb, c);
	}
}

void model_meta_add(struct model_info *info, const char *key, size_t klen,
		    const char *val, size_t vlen)
{
	struct strbuf line = STRBUF_INIT;
	int cut = vlen > META_VALUE_MAX;

	if (info->metadata.len >= MODEL_MAX_METADATA)
		return;
	model_add_escaped(&line, key, klen, META_VALUE_MAX);
	strbuf_addch(&line, '=');
	model_add_escaped(&line, val, vlen, META_VALUE_MAX);
	if (cut)
		strbuf_addstr(&line, "...");
	strbuf_addch(&line, '\n');
	if (info->metadata.len + line.len <= MODEL_MAX_METADATA)
		strbuf_add(&info->metadata, line.buf, line.len);
	strbuf_release(&line);
}

int model_read(const struct model_source *src, struct model_info *info,
	       struct strbuf *err)
{
	unsigned char head[16];
	size_t n = src->size < sizeof(head) ? src->size : sizeof(head);
	enum model_format f;
	int ret;

	if (model_src_read(src, 0, head, n, "model", "the first bytes", err))
		return -1;
	f = model_format_detect(head, n, src->size);
	switch (f) {
	case MODEL_FORMAT_SAFETENSORS:
		ret = safetensors_read(src, info, err);
		break;
	case MODEL_FORMAT_GGUF:
		ret = gguf_read(src, info, err);
		break;
	case MODEL_FORMAT_TORCH_ZIP:
		ret = torch_zip_read(src, info, err);
		break;
	case MODEL_FORMAT_ONNX:
		ret = onnx_read(src, info, err);
		break;
	case MODEL_FORMAT_TORCH_LEGACY:
		strbuf_addstr(err,
			      "pytorch (legacy): the torch.save() format before torch 1.6 is not read (save it again with a newer torch)");
		return -1;
	default:
		strbuf_addstr(err,
			      "not a known model format (safetensors, pytorch zip, gguf or onnx)");
		return -1;
	}
	if (ret) {
		model_info_release(info);
		return -1;
	}
	info->format = f;
	return 0;
}

static int fd_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? error_errno("cannot read a model file")
				     : error("a model file is shorter than it was");
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

void model_source_fd(struct model_source *src, int fd, uint64_t size)
{
	src->read_at = fd_read_at;
	src->ctx = (void *)(intptr_t)fd;
	src->size = size;
}

static int mem_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct model_mem *mem = ctx;

	if (off > mem->len || len > mem->len - off)
		return -1;
	memcpy(buf, mem->buf + off, len);
	return 0;
}

void model_source_mem(struct model_source *src, struct model_mem *mem,
		      const void *buf, size_t len)
{
	mem->buf = buf;
	mem->len = len;
	src->read_at = mem_read_at;
	src->ctx = mem;
	src->size = len;
}
