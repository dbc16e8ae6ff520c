// Command gen writes a service's input shapes, from the AWS service model the SDKs ship (botocore's
// service-2.json or .json.gz), as a Go table for modelcheck: the input shape of each named operation and every
// shape it reaches. An overrides file brings the model to what the live service answers where the two differ
// (AWS's messages quote patterns newer than the shipped model; a member the service checks itself).
//
//	go run ./internal/api/modelcheck/gen -model …/lambda/2015-03-31/service-2.json.gz \
//	    -overrides internal/api/lambdaapi/model_overrides.json -package lambdaapi -var lambdaModel \
//	    -out internal/api/lambdaapi/model_gen.go
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/modelcheck"
)

type model struct {
	Metadata   struct{ APIVersion, ServiceID string }
	Operations map[string]struct {
		Input struct{ Shape string }
	}
	Shapes map[string]rawShape
}

type rawShape struct {
	Type     string
	Min, Max *float64
	Pattern  string
	Enum     []string
	Required []string
	Payload  string
	Members  orderedMembers
	Member   *struct{ Shape string }
	Key      *struct{ Shape string }
	Value    *struct{ Shape string }
}

type rawMember struct {
	Name         string `json:"-"`
	Shape        string
	Location     string
	LocationName string
}

// orderedMembers keeps a structure's members in the model file's order, which AWS's messages follow.
type orderedMembers []rawMember

func (o *orderedMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var m rawMember
		if err := dec.Decode(&m); err != nil {
			return err
		}
		m.Name = tok.(string)
		*o = append(*o, m)
	}
	return nil
}

// overrides brings the shipped model to the live service.
type overrides struct {
	// Rewrites replace a pattern fragment wherever it occurs (AWS widened its region part in every ARN pattern).
	Rewrites []struct{ From, To string }
	// Patterns replace whole patterns, by shape.
	Patterns map[string]string
	// Unchecked shapes lose their enum and pattern: the service checks them itself, with its own message.
	Unchecked []string
	// Max sets a shape's upper bound where the service enforces one the model does not state.
	Max map[string]float64
}

func main() {
	modelPath := flag.String("model", "", "service-2.json or service-2.json.gz")
	overridesPath := flag.String("overrides", "", "overrides JSON file (optional)")
	pkg := flag.String("package", "", "Go package of the output")
	varName := flag.String("var", "", "name of the generated model variable")
	ops := flag.String("ops", "", "comma-separated operations (default: all)")
	out := flag.String("out", "", "output Go file")
	source := flag.String("source", "", "where the model comes from, for the header (default: the file's name)")
	flag.Parse()
	if *modelPath == "" || *pkg == "" || *varName == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	m, err := readModel(*modelPath)
	if err != nil {
		log.Fatal(err)
	}
	var ov overrides
	if *overridesPath != "" {
		b, err := os.ReadFile(*overridesPath)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, &ov); err != nil {
			log.Fatalf("%s: %v", *overridesPath, err)
		}
	}
	var names []string
	if *ops == "" {
		for name := range m.Operations {
			names = append(names, name)
		}
	} else {
		names = strings.Split(*ops, ",")
	}
	slices.Sort(names)
	if *source == "" {
		*source = filepath.Base(*modelPath)
	}
	src, err := generate(m, ov, names, *pkg, *varName, *source)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func readModel(path string) (*model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			return nil, err
		}
	}
	var m model
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

func generate(m *model, ov overrides, ops []string, pkg, varName, source string) ([]byte, error) {
	defs := map[string]modelcheck.ShapeDef{}
	inputs := map[string]string{}
	var visit func(name string) error
	visit = func(name string) error {
		if _, done := defs[name]; done {
			return nil
		}
		raw, ok := m.Shapes[name]
		if !ok {
			return fmt.Errorf("shape %s not in the model", name)
		}
		d := modelcheck.ShapeDef{Kind: modelcheck.Kind(raw.Type), Pattern: raw.Pattern, Enum: raw.Enum}
		if raw.Min != nil {
			d.Min, d.HasMin = *raw.Min, true
		}
		if raw.Max != nil {
			d.Max, d.HasMax = *raw.Max, true
		}
		for _, rw := range ov.Rewrites {
			if !strings.Contains(d.Pattern, rw.To) {
				d.Pattern = strings.ReplaceAll(d.Pattern, rw.From, rw.To)
			}
		}
		if p, ok := ov.Patterns[name]; ok {
			d.Pattern = p
		}
		if m, ok := ov.Max[name]; ok {
			d.Max, d.HasMax = m, true
		}
		if slices.Contains(ov.Unchecked, name) {
			d.Pattern, d.Enum = "", nil
		}
		if d.Pattern != "" {
			if _, err := modelcheck.CompilePattern(d.Pattern); err != nil {
				return fmt.Errorf("shape %s: %w", name, err)
			}
		}
		defs[name] = d // before recursing: shapes may refer to themselves
		var refs []string
		switch raw.Type {
		case "structure":
			for _, rm := range raw.Members {
				mn, loc := rm.Name, rm.Location
				if mn == raw.Payload {
					loc = "payload"
				}
				d.Members = append(d.Members, modelcheck.MemberDef{Name: mn, Shape: rm.Shape,
					Required: slices.Contains(raw.Required, mn), Location: loc, LocationName: rm.LocationName})
				refs = append(refs, rm.Shape)
			}
		case "list":
			d.Item = raw.Member.Shape
			refs = append(refs, d.Item)
		case "map":
			d.Key, d.Value = raw.Key.Shape, raw.Value.Shape
			refs = append(refs, d.Key, d.Value)
		}
		defs[name] = d
		for _, ref := range refs {
			if err := visit(ref); err != nil {
				return err
			}
		}
		return nil
	}
	for _, op := range ops {
		o, ok := m.Operations[op]
		if !ok {
			return nil, fmt.Errorf("operation %s not in the model", op)
		}
		if o.Input.Shape == "" {
			continue
		}
		inputs[op] = o.Input.Shape
		if err := visit(o.Input.Shape); err != nil {
			return nil, err
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/api/modelcheck/gen from %s (%s %s); DO NOT EDIT.\n\n", source,
		m.Metadata.ServiceID, m.Metadata.APIVersion)
	fmt.Fprintf(&b, "package %s\n\nimport \"github.com/sluice-dev/sluice/internal/api/modelcheck\"\n\n", pkg)
	fmt.Fprintf(&b, "// %sInputs names each operation's input shape.\nvar %sInputs = map[string]string{\n", varName, varName)
	for _, op := range ops {
		if in, ok := inputs[op]; ok {
			fmt.Fprintf(&b, "%q: %q,\n", op, in)
		}
	}
	fmt.Fprintf(&b, "}\n\n// %s holds the input shapes of %sInputs' operations.\nvar %s = modelcheck.Build(map[string]modelcheck.ShapeDef{\n", varName, varName, varName)
	shapeNames := make([]string, 0, len(defs))
	for name := range defs {
		shapeNames = append(shapeNames, name)
	}
	slices.Sort(shapeNames)
	for _, name := range shapeNames {
		d := defs[name]
		fmt.Fprintf(&b, "%q: {Kind: %q", name, d.Kind)
		if d.HasMin {
			fmt.Fprintf(&b, ", Min: %v, HasMin: true", d.Min)
		}
		if d.HasMax {
			fmt.Fprintf(&b, ", Max: %v, HasMax: true", d.Max)
		}
		if d.Pattern != "" {
			fmt.Fprintf(&b, ", Pattern: %q", d.Pattern)
		}
		if len(d.Enum) > 0 {
			fmt.Fprintf(&b, ", Enum: %#v", d.Enum)
		}
		for _, f := range []struct{ field, v string }{{"Item", d.Item}, {"Key", d.Key}, {"Value", d.Value}} {
			if f.v != "" {
				fmt.Fprintf(&b, ", %s: %q", f.field, f.v)
			}
		}
		if len(d.Members) > 0 {
			b.WriteString(", Members: []modelcheck.MemberDef{\n")
			for _, md := range d.Members {
				fmt.Fprintf(&b, "{Name: %q, Shape: %q", md.Name, md.Shape)
				if md.Required {
					b.WriteString(", Required: true")
				}
				if md.Location != "" {
					fmt.Fprintf(&b, ", Location: %q", md.Location)
				}
				if md.LocationName != "" {
					fmt.Fprintf(&b, ", LocationName: %q", md.LocationName)
				}
				b.WriteString("},\n")
			}
			b.WriteString("}")
		}
		b.WriteString("},\n")
	}
	b.WriteString("})\n")
	return format.Source(b.Bytes())
}
