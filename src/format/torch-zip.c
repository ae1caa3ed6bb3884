/*
 * torch.save() since torch 1.6: a zip (zip.c) whose entries sit under one
 * top directory <dir>/ (the archive's name): <dir>/data.pkl, the pickled
 * object (pickle.c), and <dir>/data/<key>, one entry per storage, stored
 * uncompressed. A tensor in the pickle names its storage's key, dtype and
 * size, and its own offset into the storage, shape and strides; so its
 * bytes are at the storage entry's data plus offset times element size.
 *
 * The pickled object is walked as a tree: dicts (a state_dict, or a
 * checkpoint {"model": state_dict, "epoch": 3}) give dotted names, lists
 * and tuples their indexes; scalars and strings go to the metadata.
 */

#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "pickle.h"
#include "wrapper.h"
#include "zip.h"
#include "banned.h"

#define FMT "pytorch (zip)"
#define MAX_DEPTH 32
#define MAX_VISITS (4 * PICKLE_MAX_VALUES)

struct walk {
	const struct model_source *src;
	const struct zip *zip;
	const char *dir;
	struct model_info *info;
	struct strbuf *err;
	size_t visits;
};

static int add_tensor(struct walk *w, const struct pickle_value *t,
		      const char *name)
{
	const struct pickle_value *s = t->storage;
	struct strbuf entry = STRBUF_INIT;
	const struct zip_entry *e;
	struct model_tensor *mt;
	uint64_t data, storage_bytes, nelem = 1, last = 0, expect = 1, x;
	unsigned i;
	int ret = -1;

	mt = model_tensor_add(w->info, name, strlen(name), FMT, w->err);
	if (!mt)
		goto out;
	if (model_tensor_set_dtype(mt, t->dtype) || !mt->elem_size) {
		strbuf_addf(w->err, FMT ": tensor '%.128s' has dtype '%s'",
			    name, t->dtype);
		goto out;
	}
	strbuf_addf(&entry, "%s/data/%s", w->dir, s->key->str);
	e = zip_find(w->zip, entry.buf);
	if (!e || strlen(s->key->str) != s->key->len) {
		strbuf_addf(w->err, FMT ": tensor '%.128s' has no storage entry '",
			    name);
		model_add_escaped(w->err, entry.buf, entry.len, 128);
		strbuf_addch(w->err, '\'');
		goto out;
	}
	if (zip_data_offset(w->zip, e, w->src, &data, FMT, w->err))
		goto out;
	if (__builtin_mul_overflow(s->numel, (uint64_t)mt->elem_size,
				   &storage_bytes) ||
	    storage_bytes > e->size) {
		strbuf_addf(w->err,
			    FMT ": storage '%.128s' of %llu elements does not fit its %llu bytes",
			    entry.buf, (unsigned long long)s->numel,
			    (unsigned long long)e->size);
		goto out;
	}
	if (model_shape_bytes(t->shape, t->ndim, mt->elem_size, &x))
		goto too_large;
	mt->ndim = t->ndim;
	mt->contiguous = 1;
	for (i = t->ndim; i--;) {
		mt->shape[i] = t->shape[i];
		mt->stride[i] = t->stride[i];
		if (__builtin_mul_overflow(nelem, t->shape[i], &nelem))
			goto too_large;
		if (t->shape[i] != 1 && t->stride[i] != expect)
			mt->contiguous = 0;
		if (t->shape[i] &&
		    (__builtin_mul_overflow(t->shape[i] - 1, t->stride[i], &x) ||
		     __builtin_add_overflow(last, x, &last)))
			goto too_large;
		if (__builtin_mul_overflow(expect, t->shape[i], &expect))
			expect = UINT64_MAX; /* only compared with strides */
	}
	/* elements [storage_offset, storage_offset + last] are used */
	if (!nelem) {
		last = 0;
		mt->contiguous = 1;
	} else if (__builtin_add_overflow(last, t->storage_offset, &x) ||
		   x >= s->numel) {
		strbuf_addf(w->err,
			    FMT ": tensor '%.128s' reaches past its storage of %llu elements",
			    name, (unsigned long long)s->numel);
		goto out;
	}
	if (t->storage_offset > s->numel) {
		strbuf_addf(w->err,
			    FMT ": tensor '%.128s' starts past its storage of %llu elements",
			    name, (unsigned long long)s->numel);
		goto out;
	}
	mt->offset = data + t->storage_offset * mt->elem_size;
	mt->length = !nelem ? 0 :
		     mt->contiguous ? nelem * mt->elem_size :
				      (last + 1) * mt->elem_size;
	ret = 0;
	goto out;
too_large:
	strbuf_addf(w->err, FMT ": tensor '%.128s' has a shape too large", name);
out:
	strbuf_release(&entry);
	return ret;
}

static void add_scalar(struct walk *w, const struct pickle_value *v,
		       const char *name)
{
	struct strbuf val = STRBUF_INIT;

	switch (v->type) {
	case PICKLE_NONE:
		strbuf_addstr(&val, "None");
		break;
	case PICKLE_BOOL:
		strbuf_addstr(&val, v->i ? "True" : "False");
		break;
	case PICKLE_INT:
		strbuf_addf(&val, "%lld", (long long)v->i);
		break;
	case PICKLE_FLOAT: {
		char num[32];

		/* the shortest of the two that reads back the same */
		xsnprintf(num, sizeof(num), "%.15g", v->f);
		if (strtod(num, NULL) != v->f)
			xsnprintf(num, sizeof(num), "%.17g", v->f);
		strbuf_addstr(&val, num);
		break;
	}
	case PICKLE_STR:
		strbuf_add(&val, v->str, v->len);
		break;
	case PICKLE_BYTES:
		strbuf_addf(&val, "<%zu bytes>", v->len);
		break;
	default:
		strbuf_release(&val);
		return;
	}
	model_meta_add(w->info, name, strlen(name), val.buf, val.len);
	strbuf_release(&val);
}

static int walk(struct walk *w, const struct pickle_value *v,
		struct strbuf *name, unsigned depth)
{
	size_t i, len = name->len;
	int step = v->type == PICKLE_DICT ? 2 : 1;

	if (++w->visits > MAX_VISITS || depth > MAX_DEPTH) {
		strbuf_addf(w->err,
			    FMT ": the pickled object is nested deeper than %d or too large to walk",
			    MAX_DEPTH);
		return -1;
	}
	switch (v->type) {
	case PICKLE_TENSOR:
		return add_tensor(w, v, name->len ? name->buf : "tensor");
	case PICKLE_DICT:
	case PICKLE_LIST:
	case PICKLE_TUPLE:
		for (i = 0; i + step <= v->nr; i += step) {
			const struct pickle_value *k = v->items[i];

			if (len)
				strbuf_addch(name, '.');
			if (step == 1)
				strbuf_addf(name, "%zu", i);
			else if (k->type == PICKLE_STR)
				strbuf_add(name, k->str, k->len);
			else if (k->type == PICKLE_INT)
				strbuf_addf(name, "%lld", (long long)k->i);
			else
				strbuf_addstr(name, "?");
			if (walk(w, v->items[i + step - 1], name, depth + 1))
				return -1;
			strbuf_setlen(name, len);
		}
		return 0;
	default:
		add_scalar(w, v, name->buf);
		return 0;
	}
}

/* The top directory that holds data.pkl: "<dir>/data.pkl". */
static int find_dir(const struct zip *zip, struct strbuf *dir,
		    struct strbuf *err)
{
	const struct zip_entry *found = NULL;
	size_t i;

	for (i = 0; i < zip->nr; i++) {
		const char *n = zip->entries[i].name, *slash = strchr(n, '/');

		if (!slash || strcmp(slash, "/data.pkl"))
			continue;
		if (found) {
			strbuf_addf(err, FMT ": two pickles, '%.128s' and '%.128s'",
				    found->name, n);
			return -1;
		}
		found = &zip->entries[i];
		strbuf_reset(dir);
		strbuf_add(dir, n, slash - n);
	}
	if (!found) {
		strbuf_addstr(err,
			      FMT ": no <dir>/data.pkl in the zip: not a torch.save() file");
		return -1;
	}
	return 0;
}

int torch_zip_read(const struct model_source *src, struct model_info *info,
		   struct strbuf *err)
{
	struct zip zip = ZIP_INIT;
	struct pickle p = PICKLE_INIT;
	struct strbuf dir = STRBUF_INIT, name = STRBUF_INIT;
	const struct zip_entry *pkl, *order;
	unsigned char *buf = NULL;
	uint64_t off;
	struct walk w = { src, &zip, NULL, info, err, 0 };
	int ret = -1;

	if (zip_open(&zip, src, FMT, err) || find_dir(&zip, &dir, err))
		goto out;
	w.dir = dir.buf;
	strbuf_addf(&name, "%s/byteorder", dir.buf);
	order = zip_find(&zip, name.buf);
	if (order) {
		char b[8];

		if (order->size > sizeof(b) ||
		    zip_data_offset(&zip, order, src, &off, FMT, err) ||
		    model_src_read(src, off, b, order->size, FMT, "byteorder",
				   err))
			goto out;
		if (order->size != 6 || memcmp(b, "little", 6)) {
			strbuf_addstr(err,
				      FMT ": storages are not little-endian (byteorder)");
			goto out;
		}
	}
	strbuf_reset(&name);
	strbuf_addf(&name, "%s/data.pkl", dir.buf);
	pkl = zip_find(&zip, name.buf);
	if (zip_data_offset(&zip, pkl, src, &off, FMT, err))
		goto out;
	if (pkl->size > MODEL_MAX_HEADER) {
		strbuf_addf(err, FMT ": data.pkl of %llu bytes is over the limit of %u",
			    (unsigned long long)pkl->size, MODEL_MAX_HEADER);
		goto out;
	}
	buf = xmalloc(pkl->size ? pkl->size : 1);
	if (model_src_read(src, off, buf, pkl->size, FMT, "data.pkl", err))
		goto out;
	strbuf_reset(&name);
	if (pickle_load(&p, buf, pkl->size, &name)) {
		strbuf_addf(err, FMT ": %s", name.buf);
		goto out;
	}
	strbuf_reset(&name);
	if (walk(&w, p.root, &name, 0))
		goto out;
	ret = 0;
out:
	pickle_release(&p);
	zip_release(&zip);
	free(buf);
	strbuf_release(&dir);
	strbuf_release(&name);
	return ret;
}
