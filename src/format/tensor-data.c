#include "tensor-data.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "usage.h"
#include "wrapper.h"
#include "banned.h"

int tensor_numeric(const char *dtype)
{
	double v;
	unsigned char zero[8] = { 0 };

	return model_dtype_size(dtype) && !model_decode(dtype, zero, 1, &v);
}

uint64_t tensor_numel(const struct model_tensor *t)
{
	uint64_t n = 1;
	unsigned i;

	for (i = 0; i < t->ndim && i < MODEL_MAX_DIMS; i++)
		n *= t->shape[i];
	return n;
}

static int plain(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

void tensor_quote_name(const char *name, struct strbuf *out)
{
	const unsigned char *p;

	if (plain(name)) {
		strbuf_addstr(out, name);
		return;
	}
	strbuf_addch(out, '"');
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addf(out, "\\%c", *p);
		else if (*p == '\n')
			strbuf_addstr(out, "\\n");
		else if (*p == '\t')
			strbuf_addstr(out, "\\t");
		else if (*p < ' ' || *p >= 0x7f)
			strbuf_addf(out, "\\%03o", *p);
		else
			strbuf_addch(out, *p);
	}
	strbuf_addch(out, '"');
}

void tensor_describe(const struct model_tensor *t, struct strbuf *out)
{
	unsigned i;

	tensor_quote_name(t->name, out);
	strbuf_addf(out, " %s [", t->dtype);
	for (i = 0; i < t->ndim && i < MODEL_MAX_DIMS; i++)
		strbuf_addf(out, "%s%" PRIu64, i ? ", " : "", t->shape[i]);
	strbuf_addch(out, ']');
}

/* A view's elements in row-major order, from its span read whole. */
static int hash_view(const struct model_source *src,
		     const struct model_tensor *t, char hex[65])
{
	uint64_t idx[MODEL_MAX_DIMS] = { 0 }, numel = tensor_numel(t), n;
	struct hash h = HASH_INIT;
	unsigned char *span, *out;
	size_t len = 0;
	unsigned d;

	if (t->length > TENSOR_MAX_VIEW)
		return error("tensor '%.128s' is a strided view over %llu bytes "
			     "(at most %u are read to hash a view; save it "
			     ".contiguous())",
			     t->name, (unsigned long long)t->length,
			     TENSOR_MAX_VIEW);
	span = xmalloc(t->length + 1);
	if (src->read_at(src->ctx, t->offset, span, t->length) < 0) {
		free(span);
		return -1;
	}
	out = xmalloc(TENSOR_BLOCK);
	hash_start(&h);
	for (n = 0; n < numel; n++) {
		uint64_t at = 0;

		/* the reader checked that every element is in the span */
		for (d = 0; d < t->ndim; d++)
			at += idx[d] * t->stride[d];
		if (len + t->elem_size > TENSOR_BLOCK) {
			hash_update(&h, out, len);
			len = 0;
		}
		memcpy(out + len, span + at * t->elem_size, t->elem_size);
		len += t->elem_size;
		for (d = t->ndim; d--;) {
			if (++idx[d] < t->shape[d])
				break;
			idx[d] = 0;
		}
	}
	hash_update(&h, out, len);
	hash_finish(&h, hex);
	free(span);
	free(out);
	return 0;
}

int tensor_hash(const struct model_source *src, const struct model_tensor *t,
		char hex[65])
{
	struct hash h = HASH_INIT;
	unsigned char *buf;
	uint64_t done = 0;
	int ret = 0;

	if (!t->contiguous && t->elem_size && t->length)
		return hash_view(src, t, hex);
	buf = xmalloc(TENSOR_BLOCK);

	hash_start(&h);
	while (done < t->length) {
		size_t n = t->length - done < TENSOR_BLOCK ?
				   (size_t)(t->length - done) :
				   TENSOR_BLOCK;

		if (src->read_at(src->ctx, t->offset + done, buf, n) < 0) {
			ret = -1;
			break;
		}
		hash_update(&h, buf, n);
		done += n;
	}
	if (ret)
		hash_release(&h);
	else
		hash_finish(&h, hex);
	free(buf);
	return ret;
}

int tensor_compare(const struct model_source *a, const struct model_tensor *ta,
		   const struct model_source *b, const struct model_tensor *tb,
		   struct tensor_delta *d)
{
	uint64_t numel = tensor_numel(ta), done = 0;
	unsigned sa = model_dtype_size(ta->dtype), sb = model_dtype_size(tb->dtype);
	size_t step;
	unsigned char *ba = NULL, *bb = NULL;
	double *va = NULL, *vb = NULL, sum_abs = 0, sum_d2 = 0, sum_a2 = 0;
	int same_dtype, ret = -1;

	if (!tensor_numeric(ta->dtype) || !tensor_numeric(tb->dtype) ||
	    numel != tensor_numel(tb))
		BUG("tensor_compare() of tensors it cannot compare");
	if (ta->length / sa != numel || tb->length / sb != numel ||
	    ta->length % sa || tb->length % sb)
		return error("tensor '%s' has %" PRIu64 " elements but not "
			     "their bytes", ta->name, numel);
	memset(d, 0, sizeof(*d));
	d->numel = numel;
	same_dtype = !strcmp(ta->dtype, tb->dtype);
	d->bytes_equal = same_dtype;
	step = TENSOR_BLOCK / 8;
	ba = xmalloc(step * sa);
	bb = xmalloc(step * sb);
	va = xmalloc(step * sizeof(double));
	vb = xmalloc(step * sizeof(double));
	while (done < numel) {
		size_t n = numel - done < step ? (size_t)(numel - done) : step,
		       i;

		if (a->read_at(a->ctx, ta->offset + done * sa, ba, n * sa) < 0 ||
		    b->read_at(b->ctx, tb->offset + done * sb, bb, n * sb) < 0)
			goto cleanup;
		done += n;
		if (same_dtype && !memcmp(ba, bb, n * sa)) {
			model_decode(ta->dtype, ba, n, va);
			for (i = 0; i < n; i++)
				sum_a2 += va[i] * va[i];
			continue;
		}
		d->bytes_equal = 0;
		model_decode(ta->dtype, ba, n, va);
		model_decode(tb->dtype, bb, n, vb);
		for (i = 0; i < n; i++) {
			double x = va[i], y = vb[i], delta = fabs(y - x);

			sum_a2 += x * x;
			if (x == y || (isnan(x) && isnan(y)))
				continue;
			d->changed++;
			if (isnan(delta))
				continue;
			sum_abs += delta;
			sum_d2 += delta * delta;
			if (delta > d->max_abs)
				d->max_abs = delta;
		}
	}
	if (numel)
		d->mean_abs = sum_abs / numel;
	if (sum_d2 > 0)
		d->rel_l2 = sum_a2 > 0 ? sqrt(sum_d2) / sqrt(sum_a2) : INFINITY;
	ret = 0;
cleanup:
	free(ba);
	free(bb);
	free(va);
	free(vb);
	return ret;
}

static int by_name(const void *a, const void *b, void *data)
{
	const struct model_info *info = data;

	return strcmp(info->tensors[*(const size_t *)a].name,
		      info->tensors[*(const size_t *)b].name);
}

size_t *model_sorted_tensors(const struct model_info *info)
{
	size_t *order = xcalloc(info->nr + 1, sizeof(*order)), i;

	for (i = 0; i < info->nr; i++)
		order[i] = i;
	if (info->nr)
		qsort_r(order, info->nr, sizeof(*order), by_name,
			(void *)info);
	return order;
}
