/*
 * ONNX: a protobuf ModelProto. Only what names the weights is read:
 * ModelProto.graph (field 7), GraphProto.initializer (field 5) and
 * sparse_initializer (15), and the graphs in node attributes, the bodies
 * of If, Loop and Scan: GraphProto.node (1), NodeProto.name (3), op_type
 * (4) and attribute (5), AttributeProto.name (1), g (6) and graphs (11),
 * nested at most ONNX_MAX_DEPTH deep. A subgraph's initializer is named
 * "<node>/<attribute>/<name>" after the node that holds it (its name, or
 * "<op_type>#<index>" when it has none), so sibling branches do not clash.
 * A sparse initializer (SparseTensorProto: values 1, indices 2, dims 3)
 * is two tensors, its values under their name and its indices as
 * "<name>.indices", and its dense shape is noted in the metadata. In
 * each TensorProto its dims (1), data_type (2), name (8), and where its
 * data is: raw_data (9), the packed float_data (4) or double_data (10)
 * (the same little-endian bytes as raw data), the packed varints of
 * int32_data (5), int64_data (7) or uint64_data (11) (compared as bytes:
 * elem_size 0, and noted in the metadata), or external data (13, 14),
 * whose location is noted in the metadata and whose tensor has no bytes
 * here. Every other field is skipped by its wire type without reading
 * it, inside its parent's bounds; weights are never read.
 */

#include <stdlib.h>
#include <string.h>

#include "model-reader.h"
#include "wrapper.h"
#include "banned.h"

#define FMT "onnx"

/* Graphs inside node attributes inside graphs: how deep they may go. */
#define ONNX_MAX_DEPTH 16

enum wire { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* ONNX's TensorProto.DataType by number: our name, bytes per element. */
static const struct onnx_type {
	const char *name;
	unsigned size;
} onnx_types[] = {
	[1] = { "F32", 4 },      [2] = { "U8", 1 },
	[3] = { "I8", 1 },       [4] = { "U16", 2 },
	[5] = { "I16", 2 },      [6] = { "I32", 4 },
	[7] = { "I64", 8 },      [8] = { "STRING", 0 },
	[9] = { "BOOL", 1 },     [10] = { "F16", 2 },
	[11] = { "F64", 8 },     [12] = { "U32", 4 },
	[13] = { "U64", 8 },     [14] = { "COMPLEX64", 0 },
	[15] = { "COMPLEX128", 0 }, [16] = { "BF16", 2 },
	[17] = { "F8_E4M3", 1 }, [18] = { "F8_E4M3FNUZ", 0 },
	[19] = { "F8_E5M2", 1 }, [20] = { "F8_E5M2FNUZ", 0 },
	[21] = { "U4", 0 },      [22] = { "I4", 0 },
};

struct field {
	unsigned number;
	enum wire wire;
	uint64_t value; /* VARINT: the value; LEN: the length */
	uint64_t start; /* LEN: where its bytes start */
};

static int read_varint(struct model_cursor *c, uint64_t end, uint64_t *v,
		       const char *what)
{
	unsigned char b;
	unsigned shift;

	*v = 0;
	for (shift = 0; shift < 64; shift += 7) {
		if (c->off >= end) {
			strbuf_addf(c->err, FMT ": %s at %llu runs past its message",
				    what, (unsigned long long)c->off);
			return -1;
		}
		if (model_cursor_read(c, &b, 1, what))
			return -1;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	strbuf_addf(c->err, FMT ": a varint of more than 10 bytes at %llu",
		    (unsigned long long)c->off);
	return -1;
}

/* The next field before `end`; a LEN field's bytes are left unread. */
static int next_field(struct model_cursor *c, uint64_t end, struct field *f)
{
	uint64_t tag;

	if (read_varint(c, end, &tag, "a field tag"))
		return -1;
	f->number = tag >> 3 > 0x1fffffff ? 0 : (unsigned)(tag >> 3);
	f->wire = tag & 7;
	if (!f->number) {
		strbuf_addf(c->err, FMT ": field number 0 at %llu",
			    (unsigned long long)c->off);
		return -1;
	}
	switch (f->wire) {
	case WIRE_VARINT:
		return read_varint(c, end, &f->value, "a varint");
	case WIRE_I64:
	case WIRE_I32:
		f->value = f->wire == WIRE_I64 ? 8 : 4;
		break;
	case WIRE_LEN:
		if (read_varint(c, end, &f->value, "a length"))
			return -1;
		break;
	default:
		strbuf_addf(c->err, FMT ": wire type %u at %llu is not read",
			    (unsigned)f->wire, (unsigned long long)c->off);
		return -1;
	}
	f->start = c->off;
	if (f->value > end - c->off) {
		strbuf_addf(c->err,
			    FMT ": field %u of %llu bytes at %llu runs past its message",
			    f->number, (unsigned long long)f->value,
			    (unsigned long long)c->off);
		return -1;
	}
	return 0;
}

/* Move past the bytes of field `f` (nothing left for a varint). */
static int skip_field(struct model_cursor *c, const struct field *f)
{
	if (f->wire == WIRE_VARINT)
		return 0;
	return model_cursor_skip(c, f->value, "a field");
}

struct tensor_proto {
	struct strbuf name;
	uint64_t dims[MODEL_MAX_DIMS];
	unsigned ndim;
	uint64_t type;
	uint64_t data_off, data_len;
	const char *data_field; /* NULL: no data seen */
	int external, segmented;
	struct strbuf location;
};

static int add_dim(struct model_cursor *c, struct tensor_proto *t,
		   uint64_t v)
{
	if (t->ndim >= MODEL_MAX_DIMS) {
		strbuf_addf(c->err, FMT ": a tensor of more than %d dims",
			    MODEL_MAX_DIMS);
		return -1;
	}
	if (v >> 63) {
		strbuf_addstr(c->err, FMT ": a tensor dim is negative");
		return -1;
	}
	t->dims[t->ndim++] = v;
	return 0;
}

/* dims: one varint, or packed varints */
static int read_dims(struct model_cursor *c, struct tensor_proto *t,
		     const struct field *f)
{
	uint64_t end = f->start + f->value, v;

	if (f->wire == WIRE_VARINT)
		return add_dim(c, t, f->value);
	if (f->wire != WIRE_LEN) {
		strbuf_addf(c->err, FMT ": dims of wire type %u",
			    (unsigned)f->wire);
		return -1;
	}
	while (c->off < end)
		if (read_varint(c, end, &v, "a dim") || add_dim(c, t, v))
			return -1;
	return 0;
}

static int read_external(struct model_cursor *c, struct tensor_proto *t,
			 const struct field *outer)
{
	uint64_t end = outer->start + outer->value;
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	struct field f;
	int ret = -1;

	while (c->off < end) {
		struct strbuf *into;

		if (next_field(c, end, &f))
			goto out;
		into = f.number == 1 ? &key : f.number == 2 ? &val : NULL;
		if (!into || f.wire != WIRE_LEN || f.value > MODEL_MAX_NAME) {
			if (skip_field(c, &f))
				goto out;
			continue;
		}
		strbuf_reset(into);
		strbuf_grow(into, f.value);
		if (model_cursor_read(c, into->buf, f.value, "external data"))
			goto out;
		strbuf_setlen(into, f.value);
	}
	if (!strcmp(key.buf, "location")) {
		strbuf_reset(&t->location);
		strbuf_add(&t->location, val.buf, val.len);
	}
	ret = 0;
out:
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

static int read_tensor_proto(struct model_cursor *c, uint64_t end,
			     struct tensor_proto *t)
{
	struct field f;

	while (c->off < end) {
		if (next_field(c, end, &f))
			return -1;
		switch (f.number) {
		case 1:
			if (read_dims(c, t, &f))
				return -1;
			continue;
		case 2:
			if (f.wire != WIRE_VARINT)
				break;
			t->type = f.value;
			continue;
		case 3:
			t->segmented = 1;
			break;
		case 4: case 5: case 7: case 9: case 10: case 11:
			if (f.wire != WIRE_LEN) {
				strbuf_addf(c->err,
					    FMT ": unpacked tensor data (field %u) is not read",
					    f.number);
				return -1;
			}
			t->data_off = f.start;
			t->data_len = f.value;
			t->data_field = f.number == 4 ? "float_data" :
					f.number == 5 ? "int32_data" :
					f.number == 7 ? "int64_data" :
					f.number == 9 ? "raw_data" :
					f.number == 10 ? "double_data" :
							 "uint64_data";
			break;
		case 8:
			if (f.wire != WIRE_LEN)
				break;
			if (f.value > MODEL_MAX_NAME) {
				strbuf_addf(c->err,
					    FMT ": a tensor name of %llu bytes (at most %u)",
					    (unsigned long long)f.value,
					    MODEL_MAX_NAME);
				return -1;
			}
			strbuf_reset(&t->name);
			strbuf_grow(&t->name, f.value);
			if (model_cursor_read(c, t->name.buf, f.value,
					      "a tensor name"))
				return -1;
			strbuf_setlen(&t->name, f.value);
			continue;
		case 13:
			if (f.wire != WIRE_LEN)
				break;
			if (read_external(c, t, &f))
				return -1;
			continue;
		case 14:
			if (f.wire == WIRE_VARINT)
				t->external = f.value == 1;
			continue;
		}
		if (skip_field(c, &f))
			return -1;
	}
	return 0;
}

static int add_tensor(struct model_info *info, struct tensor_proto *tp,
		      const char *prefix, const char *suffix,
		      struct strbuf *err)
{
	const struct onnx_type *ot =
		tp->type < ARRAY_SIZE(onnx_types) ? &onnx_types[tp->type] : NULL;
	struct model_tensor *t;
	struct strbuf key = STRBUF_INIT;
	uint64_t bytes;
	int ret = -1;

	if (tp->segmented) {
		strbuf_addstr(err, FMT ": segmented tensors are not read");
		goto out;
	}
	if (!tp->name.len) {
		/* refused by model_tensor_add(), whatever the prefix */
		t = model_tensor_add(info, "", 0, FMT, err);
		goto out;
	}
	strbuf_addf(&key, "%s%s%s", prefix, tp->name.buf, suffix);
	t = model_tensor_add(info, key.buf, key.len, FMT, err);
	if (!t)
		goto out;
	strbuf_reset(&key);
	if (!ot || !ot->name) {
		strbuf_addf(err, FMT ": tensor '%.128s' has unknown data_type %llu",
			    t->name, (unsigned long long)tp->type);
		goto out;
	}
	xsnprintf(t->dtype, sizeof(t->dtype), "%s", ot->name);
	t->ndim = tp->ndim;
	memcpy(t->shape, tp->dims, sizeof(t->shape));
	strbuf_addstr(&key, t->name);
	if (tp->external || tp->location.len) {
		strbuf_addstr(&key, ".external_data");
		model_meta_add(info, key.buf, key.len, tp->location.buf,
			       tp->location.len);
		ret = 0;
		goto out;
	}
	t->offset = tp->data_off;
	t->length = tp->data_len;
	/* float_data and double_data hold the raw bytes of F32 and F64 */
	if (tp->data_field && strcmp(tp->data_field, "raw_data") &&
	    !(!strcmp(tp->data_field, "float_data") && tp->type == 1) &&
	    !(!strcmp(tp->data_field, "double_data") && tp->type == 11)) {
		strbuf_addstr(&key, ".encoding");
		model_meta_add(info, key.buf, key.len, tp->data_field,
			       strlen(tp->data_field));
		ret = 0;
		goto out;
	}
	t->elem_size = ot->size;
	if (model_shape_bytes(t->shape, t->ndim, ot->size, &bytes)) {
		strbuf_addf(err, FMT ": tensor '%.128s' has a shape too large",
			    t->name);
		goto out;
	}
	if (ot->size && bytes != t->length) {
		strbuf_addf(err,
			    FMT ": tensor '%.128s' has %llu bytes of data, its data_type and dims need %llu",
			    t->name, (unsigned long long)t->length,
			    (unsigned long long)bytes);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&key);
	return ret;
}

static int read_graph(struct model_cursor *c, uint64_t end,
		      struct model_info *info, const char *prefix,
		      unsigned depth);

static void tensor_proto_release(struct tensor_proto *tp)
{
	strbuf_release(&tp->name);
	strbuf_release(&tp->location);
}

#define TENSOR_PROTO_INIT { .name = STRBUF_INIT, .location = STRBUF_INIT }

/* A short string field (a name, an op_type) into `out`. */
static int read_name(struct model_cursor *c, const struct field *f,
		     struct strbuf *out, const char *what)
{
	if (f->value > MODEL_MAX_NAME) {
		strbuf_addf(c->err, FMT ": %s of %llu bytes (at most %u)", what,
			    (unsigned long long)f->value, MODEL_MAX_NAME);
		return -1;
	}
	strbuf_reset(out);
	strbuf_grow(out, f->value);
	if (model_cursor_read(c, out->buf, f->value, what))
		return -1;
	strbuf_setlen(out, f->value);
	return 0;
}

/* SparseTensorProto: its values, its indices and its dense dims. */
static int read_sparse(struct model_cursor *c, uint64_t end,
		       struct model_info *info, const char *prefix)
{
	struct tensor_proto values = TENSOR_PROTO_INIT,
			    indices = TENSOR_PROTO_INIT,
			    dense = TENSOR_PROTO_INIT;
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	int seen_values = 0, seen_indices = 0, ret = -1;
	struct field f;
	unsigned i;

	while (c->off < end) {
		if (next_field(c, end, &f))
			goto out;
		if ((f.number == 1 || f.number == 2) && f.wire == WIRE_LEN) {
			struct tensor_proto *tp =
				f.number == 1 ? &values : &indices;

			if (read_tensor_proto(c, f.start + f.value, tp))
				goto out;
			*(f.number == 1 ? &seen_values : &seen_indices) = 1;
			continue;
		}
		if (f.number == 3) {
			if (read_dims(c, &dense, &f))
				goto out;
			continue;
		}
		if (skip_field(c, &f))
			goto out;
	}
	if (!seen_values || !seen_indices) {
		strbuf_addf(c->err, FMT ": a sparse initializer without %s",
			    seen_values ? "indices" : "values");
		goto out;
	}
	if (add_tensor(info, &values, prefix, "", c->err))
		goto out;
	strbuf_reset(&indices.name);
	strbuf_add(&indices.name, values.name.buf, values.name.len);
	if (add_tensor(info, &indices, prefix, ".indices", c->err))
		goto out;
	strbuf_addf(&key, "%s%s.sparse_dims", prefix, values.name.buf);
	strbuf_addch(&val, '[');
	for (i = 0; i < dense.ndim; i++)
		strbuf_addf(&val, "%s%llu", i ? ", " : "",
			    (unsigned long long)dense.dims[i]);
	strbuf_addch(&val, ']');
	model_meta_add(info, key.buf, key.len, val.buf, val.len);
	ret = 0;
out:
	tensor_proto_release(&values);
	tensor_proto_release(&indices);
	tensor_proto_release(&dense);
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

/*
 * AttributeProto: its graphs (g, graphs) are read with `node` (the
 * prefix up to and with the node's name and a slash) and the attribute's
 * name as their prefix.
 */
static int read_attribute(struct model_cursor *c, uint64_t end,
			  struct model_info *info, const char *node,
			  unsigned depth)
{
	struct strbuf name = STRBUF_INIT, prefix = STRBUF_INIT;
	unsigned nr_graphs = 0;
	struct field f;
	int ret = -1;

	while (c->off < end) {
		if (next_field(c, end, &f))
			goto out;
		if (f.number == 1 && f.wire == WIRE_LEN) {
			if (read_name(c, &f, &name, "an attribute name"))
				goto out;
			continue;
		}
		if ((f.number == 6 || f.number == 11) && f.wire == WIRE_LEN) {
			strbuf_reset(&prefix);
			strbuf_addf(&prefix, "%s%s", node,
				    name.len ? name.buf : "attribute");
			if (f.number == 11)
				strbuf_addf(&prefix, "[%u]", nr_graphs++);
			strbuf_addch(&prefix, '/');
			if (read_graph(c, f.start + f.value, info, prefix.buf,
				       depth + 1))
				goto out;
			continue;
		}
		if (skip_field(c, &f))
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&name);
	strbuf_release(&prefix);
	return ret;
}

/* NodeProto: the graphs in its attributes. */
static int read_node(struct model_cursor *c, uint64_t end,
		     struct model_info *info, const char *prefix,
		     unsigned index, unsigned depth)
{
	struct strbuf name = STRBUF_INIT, op = STRBUF_INIT,
		      node = STRBUF_INIT;
	struct field f;
	int ret = -1;

	while (c->off < end) {
		if (next_field(c, end, &f))
			goto out;
		if ((f.number == 3 || f.number == 4) && f.wire == WIRE_LEN) {
			if (read_name(c, &f, f.number == 3 ? &name : &op,
				      "a node name"))
				goto out;
			continue;
		}
		if (f.number == 5 && f.wire == WIRE_LEN) {
			strbuf_reset(&node);
			if (name.len)
				strbuf_addf(&node, "%s%s/", prefix, name.buf);
			else
				strbuf_addf(&node, "%s%s#%u/", prefix,
					    op.len ? op.buf : "node", index);
			if (read_attribute(c, f.start + f.value, info,
					   node.buf, depth))
				goto out;
			continue;
		}
		if (skip_field(c, &f))
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&name);
	strbuf_release(&op);
	strbuf_release(&node);
	return ret;
}

static int read_graph(struct model_cursor *c, uint64_t end,
		      struct model_info *info, const char *prefix,
		      unsigned depth)
{
	unsigned nodes = 0;
	struct field f;

	if (depth > ONNX_MAX_DEPTH) {
		strbuf_addf(c->err, FMT ": subgraphs nested more than %d deep",
			    ONNX_MAX_DEPTH);
		return -1;
	}
	while (c->off < end) {
		struct tensor_proto tp = TENSOR_PROTO_INIT;
		int ret;

		if (next_field(c, end, &f))
			return -1;
		if (f.wire != WIRE_LEN ||
		    (f.number != 1 && f.number != 5 && f.number != 15)) {
			if (skip_field(c, &f))
				return -1;
			continue;
		}
		if (f.number == 1) {
			if (read_node(c, f.start + f.value, info, prefix,
				      nodes++, depth))
				return -1;
			continue;
		}
		if (f.number == 15) {
			if (read_sparse(c, f.start + f.value, info, prefix))
				return -1;
			continue;
		}
		ret = read_tensor_proto(c, f.start + f.value, &tp) ||
		      add_tensor(info, &tp, prefix, "", c->err);
		tensor_proto_release(&tp);
		if (ret)
			return -1;
	}
	return 0;
}

int onnx_read(const struct model_source *src, struct model_info *info,
	      struct strbuf *err)
{
	struct model_cursor *c = xcalloc(1, sizeof(*c));
	struct field f;
	int ret = -1, graphs = 0;

	c->src = src;
	c->err = err;
	c->fmt = FMT;
	c->limit = src->size;
	while (c->off < src->size) {
		if (next_field(c, src->size, &f))
			goto out;
		if (f.number == 7 && f.wire == WIRE_LEN) {
			if (read_graph(c, f.start + f.value, info, "", 0))
				goto out;
			graphs++;
			continue;
		}
		if (skip_field(c, &f))
			goto out;
	}
	if (!graphs) {
		strbuf_addstr(err, FMT ": no graph in the model");
		goto out;
	}
	ret = 0;
out:
	free(c);
	return ret;
}
