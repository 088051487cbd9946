package main

import (
	"encoding/hex"
	"reflect"
	"strconv"
)

// toJSON renders a value so that TypeScript can rebuild it from a schema without losing precision.
func toJSON(v interface{}) interface{} {
	return render(reflect.ValueOf(v))
}

func render(v reflect.Value) interface{} {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.String:
		return v.String()
	case reflect.Ptr:
		if v.IsNil() {
			return nil
		}
		return render(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			return hex.EncodeToString(v.Bytes())
		}
		out := []interface{}{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, render(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil // gob omits a nil map field but sends an empty one
		}
		out := [][2]interface{}{}
		iter := v.MapRange()
		for iter.Next() {
			out = append(out, [2]interface{}{render(iter.Key()), render(iter.Value())})
		}
		return out
	case reflect.Struct:
		out := map[string]interface{}{}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out[v.Type().Field(i).Name] = render(v.Field(i))
			}
		}
		return out
	}
	panic("toJSON: unsupported kind " + v.Kind().String())
}
