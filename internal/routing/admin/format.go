package admin

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
)

// Formats of export and import.
const (
	FormatYAML = "yaml"
	FormatCSV  = "csv"
)

// Write writes r in format: YAML in the shape of a routes file (so an
// export is a ready routing.file.path), or CSV with one row per record.
func Write(w io.Writer, format string, r Routes) error {
	switch format {
	case FormatYAML:
		return writeYAML(w, r)
	case FormatCSV:
		return writeCSV(w, r)
	}
	return fmt.Errorf("unknown format %q (want yaml or csv)", format)
}

// Read reads routes written in format. Records are checked only for their
// shape here; the store validates them when they are written.
func Read(rd io.Reader, format string) (Routes, error) {
	var r Routes
	var err error
	switch format {
	case FormatYAML:
		r, err = readYAML(rd)
	case FormatCSV:
		r, err = readCSV(rd)
	default:
		return Routes{}, fmt.Errorf("unknown format %q (want yaml or csv)", format)
	}
	if err != nil {
		return Routes{}, err
	}
	r.sort()
	return r, nil
}

// FormatOf guesses the format of a file from its name.
func FormatOf(name string) string {
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return FormatCSV
	}
	return FormatYAML
}

func writeYAML(w io.Writer, r Routes) error {
	doc := file.Document{LOBs: map[string]routing.LOB{}, Users: map[string]routing.User{}, Groups: map[string][]string{}}
	for _, l := range r.LOBs {
		name := l.Name
		l.Name = ""
		doc.LOBs[name] = l
	}
	for _, u := range r.Users {
		name := u.Name
		u.Name = ""
		doc.Users[name] = u
	}
	for _, g := range r.Groups {
		doc.Groups[g.Name] = nonNil(g.LOBs)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func readYAML(rd io.Reader) (Routes, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return Routes{}, err
	}
	doc, err := file.ParseDocument(data)
	if err != nil {
		return Routes{}, err
	}
	var r Routes
	var errs []error
	for name, l := range doc.LOBs {
		if l.Name != "" && l.Name != name {
			errs = append(errs, fmt.Errorf("lobs.%s.name: %q does not match its key", name, l.Name))
		}
		l.Name = name
		r.LOBs = append(r.LOBs, l)
	}
	for name, u := range doc.Users {
		if u.Name != "" && u.Name != name {
			errs = append(errs, fmt.Errorf("users.%s.name: %q does not match its key", name, u.Name))
		}
		u.Name = name
		r.Users = append(r.Users, u)
	}
	for name, lobs := range doc.Groups {
		r.Groups = append(r.Groups, routing.Group{Name: name, LOBs: nonNil(lobs)})
	}
	return r, errors.Join(errs...)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CSV columns. A LOB's columns are its JSON fields; lobs lists a user's
// or a group's LOBs separated by ';' (LOB names cannot hold one).
var (
	csvHead    = []string{"kind", "name", "lobs", "profile", "disabled"}
	csvLOBCols = []string{"accountId", "region", "domainId", "roleArn", "externalId", "profileRule",
		"sessionDuration", "urlLifetime", "space", "privateSpace", "landingUri", "label", "jitProfiles", "executionRole",
		"notebooks", "notebookTemplates"}
	csvBoolCols = []string{"disabled", "privateSpace", "jitProfiles"}
	// csvJSONCols hold lists of records, written as JSON in one cell; a
	// user's notebooks use the notebooks column too.
	csvJSONCols = []string{"notebooks", "notebookTemplates"}
)

func csvColumns() []string { return append(slices.Clone(csvHead), csvLOBCols...) }

func writeCSV(w io.Writer, r Routes) error {
	cw := csv.NewWriter(w)
	cols := csvColumns()
	if err := cw.Write(cols); err != nil {
		return err
	}
	row := func(vals map[string]string) error {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = vals[c]
		}
		return cw.Write(rec)
	}
	for _, l := range r.LOBs {
		vals, err := lobColumns(l)
		if err != nil {
			return err
		}
		vals["kind"], vals["name"] = routing.KindLOB, l.Name
		if err := row(vals); err != nil {
			return err
		}
	}
	for _, u := range r.Users {
		vals := map[string]string{"kind": routing.KindUser, "name": u.Name, "lobs": strings.Join(u.LOBs, ";"), "profile": u.Profile}
		if u.Disabled {
			vals["disabled"] = "true"
		}
		if len(u.Notebooks) > 0 {
			b, err := json.Marshal(u.Notebooks)
			if err != nil {
				return err
			}
			vals["notebooks"] = string(b)
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	for _, g := range r.Groups {
		if err := row(map[string]string{"kind": routing.KindGroup, "name": g.Name, "lobs": strings.Join(g.LOBs, ";")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// lobColumns is l's JSON encoding, one string per field.
func lobColumns(l routing.LOB) (map[string]string, error) {
	data, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for k, raw := range m {
		if k == "name" {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		if slices.Contains(csvJSONCols, k) {
			vals[k] = string(raw)
		} else {
			vals[k] = fmt.Sprint(v)
		}
	}
	return vals, nil
}

func readCSV(rd io.Reader) (Routes, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return Routes{}, fmt.Errorf("csv: reading the header: %w", err)
	}
	known := csvColumns()
	for _, h := range head {
		if !slices.Contains(known, h) {
			return Routes{}, fmt.Errorf("csv: unknown column %q (known: %s)", h, strings.Join(known, ", "))
		}
	}
	var r Routes
	var errs []error
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Routes{}, fmt.Errorf("csv: %w", err)
		}
		vals := map[string]string{}
		for i, v := range rec {
			if i < len(head) {
				vals[head[i]] = strings.TrimSpace(v)
			}
		}
		if err := r.addCSVRow(vals); err != nil {
			errs = append(errs, fmt.Errorf("csv line %d: %w", line, err))
		}
	}
	return r, errors.Join(errs...)
}

func (r *Routes) addCSVRow(vals map[string]string) error {
	name := vals["name"]
	if name == "" {
		return errors.New("name: required")
	}
	lobs := splitLOBs(vals["lobs"])
	switch vals["kind"] {
	case routing.KindUser:
		disabled, err := csvBool(vals, "disabled")
		if err != nil {
			return err
		}
		u := routing.User{Name: name, LOBs: lobs, Profile: vals["profile"], Disabled: disabled}
		if v := vals["notebooks"]; v != "" {
			if err := json.Unmarshal([]byte(v), &u.Notebooks); err != nil {
				return fmt.Errorf("user %q: notebooks: want a JSON list of {lob, name, label}: %w", name, err)
			}
		}
		r.Users = append(r.Users, u)
	case routing.KindGroup:
		r.Groups = append(r.Groups, routing.Group{Name: name, LOBs: nonNil(lobs)})
	case routing.KindLOB:
		// Build the LOB's JSON so that it decodes like a routes file.
		m := map[string]any{"name": name}
		for _, c := range csvLOBCols {
			switch v := vals[c]; {
			case v == "":
			case slices.Contains(csvJSONCols, c):
				if !json.Valid([]byte(v)) {
					return fmt.Errorf("lob %q: %s: want JSON", name, c)
				}
				m[c] = json.RawMessage(v)
			case slices.Contains(csvBoolCols, c):
				b, err := csvBool(vals, c)
				if err != nil {
					return err
				}
				m[c] = b
			default:
				m[c] = v
			}
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		var l routing.LOB
		if err := json.Unmarshal(data, &l); err != nil {
			return fmt.Errorf("lob %q: %w", name, err)
		}
		r.LOBs = append(r.LOBs, l)
	default:
		return fmt.Errorf("kind: want lob, user or group, got %q", vals["kind"])
	}
	return nil
}

func splitLOBs(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ";") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func csvBool(vals map[string]string, col string) (bool, error) {
	switch strings.ToLower(vals[col]) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, fmt.Errorf("%s: want true or false, got %q", col, vals[col])
}
