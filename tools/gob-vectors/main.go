// Command gob-vectors writes golden gob vectors for weave-ts: Go's own encoding/gob output for values
// shaped like Weave's gossip types, with the values as JSON. Each case runs in a fresh process
// (the program re-executes itself), because gob numbers user types process-globally.
//
//	go run . > ../../packages/core/test/fixtures/gob/vectors.json
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
)

// encoding is the output of one gob.Encoder: its bytes and the values it encoded, in order.
type encoding struct {
	Hex    string        `json:"hex"`
	Values []interface{} `json:"values"`
}

// result is one case: the encoders it used, in order, all within one fresh process.
type result struct {
	Name      string     `json:"name"`
	Encodings []encoding `json:"encodings"`
}

// encodeAll encodes values with one fresh encoder.
func encodeAll(values ...interface{}) encoding {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	out := encoding{Values: []interface{}{}}
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
		out.Values = append(out.Values, toJSON(v))
	}
	out.Hex = hex.EncodeToString(buf.Bytes())
	return out
}

func runCase(name string) {
	build, ok := cases[name]
	if !ok {
		panic("unknown case " + name)
	}
	r := result{Name: name, Encodings: build()}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		panic(err)
	}
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-case" {
		runCase(os.Args[2])
		return
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	results := []json.RawMessage{}
	for _, name := range names {
		out, err := exec.Command(self, "-case", name).Output()
		if err != nil {
			panic(fmt.Sprintf("case %s: %v", name, err))
		}
		results = append(results, json.RawMessage(bytes.TrimSpace(out)))
	}
	doc := map[string]interface{}{
		"generator": "tools/gob-vectors (go run .)",
		"go":        runtime.Version(),
		"note":      "ints and uints are decimal strings, []byte is hex, maps are [key, value] pairs in Go's (random) iteration order, nil maps and nil pointers are null",
		"cases":     results,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
}
