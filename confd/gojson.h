/*
 * Go's encoding/json Unmarshal into interface{} values, for confd's json
 * and jsonArray: objects as map[string]interface{}, arrays as
 * []interface{}, numbers as float64, null as nil; the syntax check of the
 * whole input first and Go's messages for syntax and type errors.
 * Private to funcs.c (and its tests).
 */
#ifndef PODMESH_CONFD_GOJSON_H
#define PODMESH_CONFD_GOJSON_H

#include <stddef.h>

#include "confd/tmpl.h"

enum gojson_want {
	GOJSON_OBJECT, /* map[string]interface{}: null gives an empty map */
	GOJSON_ARRAY, /* []interface{}: null gives an empty list */
};

/*
 * The value of data as Go would unmarshal it into want, or NULL with
 * Go's error message in err ("invalid character 'x' looking for
 * beginning of value", "unexpected end of JSON input", "json: cannot
 * unmarshal array into Go value of type map[string]interface {}").
 */
struct tval *gojson_unmarshal(const char *data, size_t len,
    enum gojson_want want, char *err, size_t errlen);

#endif
