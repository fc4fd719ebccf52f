/* N-API entry points (plain node_api.h): every kernel checks argument types, sizes and buffer lengths before
 * touching memory and throws an Error "op: what is wrong (sizes)" instead of crashing. create(level) returns the
 * kernels bound to one CPU level's table (RLAIF_CPU forces the default lower). Leaves out: async calls. */
#include <node_api.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ops.h"

#define MAX_ARGS 24
#define MAX_SIZE 1099511627776.0 /* 2^40: sizes beyond cannot fit a typed array anyway */

typedef struct {
  napi_env env;
  const char *op;
  size_t argc;
  napi_value argv[MAX_ARGS];
  const KernelTable *t;
} Call;

static void throwf(Call *c, const char *fmt, ...) {
  char msg[600];
  int n = snprintf(msg, sizeof msg, "%s: ", c->op);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  bool pending = false;
  napi_is_exception_pending(c->env, &pending);
  if (!pending) napi_throw_error(c->env, "ERR_RLAIF_KERNEL", msg);
}

static int begin(napi_env env, napi_callback_info info, Call *c, const char *op, size_t expected) {
  c->env = env; c->op = op; c->argc = MAX_ARGS;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, &data) != napi_ok) { throwf(c, "bad call"); return 0; }
  c->t = data;
  if (c->argc < expected) { throwf(c, "expected %zu arguments, got %zu", expected, c->argc); return 0; }
  return 1;
}

static int typed(Call *c, int i, const char *name, napi_typedarray_type want, const char *wantName, void **p,
                 size_t *len) {
  bool is = false;
  napi_is_typedarray(c->env, c->argv[i], &is);
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (!is || napi_get_typedarray_info(c->env, c->argv[i], &type, len, p, &ab, &off) != napi_ok || type != want) {
    throwf(c, "%s must be a %s", name, wantName);
    return 0;
  }
  return 1;
}

/* get_num, get_bool: argument i read by napi_get_value_<type>, or a "<name> must be a <what>" error. */
#define GETTER(fn, type, napi_get, what) \
  static int fn(Call *c, int i, const char *name, type *out) { \
    if (napi_get(c->env, c->argv[i], out) != napi_ok) { throwf(c, "%s must be a " what, name); return 0; } \
    return 1; \
  }
GETTER(get_num, double, napi_get_value_double, "number")
GETTER(get_bool, bool, napi_get_value_bool, "boolean")

static int get_size(Call *c, int i, const char *name, long *out) {
  double v;
  if (!get_num(c, i, name, &v)) return 0;
  if (!(v >= 0 && v <= MAX_SIZE && v == floor(v))) {
    throwf(c, "%s must be a non-negative integer, got %g", name, v);
    return 0;
  }
  *out = (long)v;
  return 1;
}

static int need(Call *c, const char *name, size_t len, double n) {
  if ((double)len < n) { throwf(c, "%s has %zu elements, needs %.0f", name, len, n); return 0; }
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

#define BEGIN(name, n) Call C; if (!begin(env, info, &C, name, n)) return NULL;
#define F32(i, name, var) float *var; size_t var##_len; \
  if (!typed(&C, i, name, napi_float32_array, "Float32Array", (void **)&var, &var##_len)) return NULL;
#define I32(i, name, var) int32_t *var; size_t var##_len; \
  if (!typed(&C, i, name, napi_int32_array, "Int32Array", (void **)&var, &var##_len)) return NULL;
#define U16(i, name, var) uint16_t *var; size_t var##_len; \
  if (!typed(&C, i, name, napi_uint16_array, "Uint16Array", (void **)&var, &var##_len)) return NULL;
#define SIZE(i, name, var) long var; if (!get_size(&C, i, name, &var)) return NULL;
#define NUM(i, name, var) double var; if (!get_num(&C, i, name, &var)) return NULL;
#define BOOL(i, name, var) bool var; if (!get_bool(&C, i, name, &var)) return NULL;
#define NEED(name, var, n) if (!need(&C, name, var##_len, (double)(n))) return NULL;

#include "binding_ops.inc"
