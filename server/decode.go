package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/service"
)

// errTooLarge marks a body over the size limit (HTTP 413).
var errTooLarge = errors.New("request body too large")

// badf returns an error wrapping service.ErrBadRequest (HTTP 400).
func badf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", service.ErrBadRequest, fmt.Sprintf(format, a...))
}

// maxProblems bounds how many problems one error answer lists.
const maxProblems = 20

// maxProblemLen bounds each listed problem (a 900 KB unknown key is not
// repeated back whole).
const maxProblemLen = 1024

// badList joins problems into one bad-request error, in order: at most
// maxProblems of them, each at most maxProblemLen bytes.
func badList(msgs []string) error {
	if len(msgs) == 0 {
		return nil
	}
	more := len(msgs) - maxProblems
	msgs = msgs[:min(len(msgs), maxProblems)]
	out := make([]string, len(msgs), len(msgs)+1)
	for i, m := range msgs {
		out[i] = clip(m, maxProblemLen)
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("and %d more problems", more))
	}
	return badf("%s", strings.Join(out, "; "))
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// readBody reads the whole body, at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, fmt.Errorf("%w: the limit is %d bytes", errTooLarge, mb.Limit)
		}
		return nil, badf("reading request body: %v", err)
	}
	return b, nil
}

// field is one member of a JSON object, in input order.
type field struct {
	name string
	raw  json.RawMessage
}

// objectFields splits a JSON object into its members. It rejects anything
// but one object (with nothing after it) and members given twice, which
// encoding/json would silently resolve to the last one.
func objectFields(b []byte, what string) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, badf("%s: empty; want a JSON object", what)
	}
	if err != nil {
		return nil, badf("%s: %s", what, jsonMessage(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, badf("%s: want a JSON object, got %s", what, describeToken(tok))
	}
	// Members given twice at any depth (status, values, readiness, webhook
	// metadata…) would be resolved to the last one by encoding/json: one
	// linear pass finds them first.
	var dup *manifest.DuplicateKeyError
	if errors.As(manifest.DuplicateJSONKey(b, ""), &dup) {
		return nil, badf("%s: field %q given twice", clip(cmp.Or(dup.Path, what), maxProblemLen), clip(dup.Key, maxProblemLen))
	}
	var out []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badf("%s: %s", what, jsonMessage(err))
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, badf("%s: field %q given twice", what, clip(name, maxProblemLen))
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badf("%s: %s", join(what, name), jsonMessage(err))
		}
		out = append(out, field{name: name, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, badf("%s: %s", what, jsonMessage(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badf("%s: unexpected data after the JSON object", what)
	}
	return out, nil
}

// join appends a member name to a path ("request body" is the root).
func join(path, name string) string {
	if path == "" || path == bodyPath {
		return name
	}
	return path + "." + name
}

// bodyPath names the request body in errors.
const bodyPath = "request body"

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return strconv.Quote(v.String())
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// jsonMessage makes encoding/json's error texts read without the "json: " prefix.
func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// isNull reports whether a raw value is JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// strictUnmarshal decodes raw into dst refusing unknown fields; errors name
// the field path below path.
func strictUnmarshal(raw json.RawMessage, dst any, path string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fieldError(path, err)
	}
	return nil
}

func fieldError(path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := path
		if te.Field != "" {
			p = join(path, te.Field)
		}
		return badf("%s: want %s, got %s", p, typeName(te.Type), te.Value)
	}
	msg := jsonMessage(err)
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return badf("%s: unknown field %s", path, name)
	}
	return badf("%s: %s", path, msg)
}

// typeName names a Go type the way a JSON user thinks of it.
func typeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// unknownField reports a member the request type does not have.
func unknownField(path, name string, known []string) string {
	name = clip(name, 128)
	msg := fmt.Sprintf("%s: unknown field %q", join(path, name), name)
	if s := suggest(name, known); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}

// suggest returns the known name closest to name, if it is close enough to
// be a typo.
func suggest(name string, known []string) string {
	if len(name) > 64 {
		return "" // not a typo of a field name; and editDistance is quadratic
	}
	best, bestD := "", 0
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > max(1, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// manifestMessages turns the manifest package's joined errors into one line
// per problem, each starting with the request path of the object
// (canary, metricTemplates[1]) and the field inside it.
func manifestMessages(err error, rename func(source, path string) string) []string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		var me *manifest.Error
		if !errors.As(e, &me) {
			out = append(out, e.Error())
			continue
		}
		p := rename(me.Source, me.Path)
		if p == "" {
			p = bodyPath
		}
		out = append(out, p+": "+me.Msg)
	}
	return out
}

// objectPath is the default rename: source, then the field path.
func objectPath(source, path string) string {
	if path == "" {
		return source
	}
	if strings.HasPrefix(path, "[") {
		return source + path
	}
	return source + "." + path
}

// withHeader returns the JSON object raw with apiVersion and kind set to
// Flagger's when it lacks them, so that a bare {metadata, spec} is accepted.
// A kind other than want is an error. Everything else (duplicate members,
// unknown fields) is left to the manifest decoder.
func withHeader(raw json.RawMessage, path, kind string) ([]byte, error) {
	body := bytes.TrimSpace(raw)
	if len(body) == 0 || body[0] != '{' {
		var tok json.Token
		if len(body) > 0 {
			tok, _ = json.NewDecoder(bytes.NewReader(body)).Token()
		}
		return nil, badf("%s: want a JSON object, got %s", path, describeToken(tok))
	}
	var head struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Kind       json.RawMessage `json:"kind"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fieldError(path, err)
	}
	if head.Kind != nil {
		var k string
		if err := json.Unmarshal(head.Kind, &k); err != nil || k != kind {
			return nil, badf("%s.kind: want %s, got %s", path, kind, bytes.TrimSpace(head.Kind))
		}
	}
	if head.APIVersion != nil && head.Kind != nil {
		return body, nil
	}
	var b bytes.Buffer
	b.Grow(len(body) + 64)
	b.WriteByte('{')
	if head.APIVersion == nil {
		b.WriteString(`"apiVersion":"` + analysis.APIVersion + `",`)
	}
	if head.Kind == nil {
		b.WriteString(`"kind":"` + kind + `",`)
	}
	rest := bytes.TrimSpace(body[1:])
	if rest[0] == '}' {
		// An empty object: drop the comma after the header.
		b.Truncate(b.Len() - 1)
	}
	b.Write(rest)
	return b.Bytes(), nil
}

// decodeObjects strictly decodes a request's canary and MetricTemplates with
// the manifest decoder (the same rules as files: unknown fields, wrong types
// and CRD violations are errors naming the field) and validates them.
func decodeObjects(canary json.RawMessage, templates []json.RawMessage) (*manifest.Set, error) {
	if canary == nil || isNull(canary) {
		return nil, badf("canary: required (a Flagger Canary object, or at least its metadata and spec)")
	}
	set := &manifest.Set{}
	var msgs []string
	add := func(raw json.RawMessage, path, kind string) {
		b, err := withHeader(raw, path, kind)
		if err != nil {
			msgs = append(msgs, strings.TrimPrefix(err.Error(), service.ErrBadRequest.Error()+": "))
			return
		}
		s, err := manifest.DecodeBytes(b, path)
		if err != nil {
			msgs = append(msgs, manifestMessages(err, objectPath)...)
			return
		}
		if err := set.Merge(s); err != nil {
			msgs = append(msgs, manifestMessages(err, objectPath)...)
		}
	}
	add(canary, "canary", analysis.KindCanary)
	for i, t := range templates {
		add(t, fmt.Sprintf("metricTemplates[%d]", i), analysis.KindMetricTemplate)
	}
	if len(msgs) > 0 {
		return nil, badList(msgs)
	}
	if len(set.Canaries) != 1 {
		return nil, badf("canary: want one Canary object")
	}
	if err := manifest.Validate(set); err != nil {
		return nil, badList(manifestMessages(err, objectPath))
	}
	for i, t := range set.Templates {
		if t.Spec.Provider.SecretRef != nil {
			// The request chooses the address: a Secret used with it would
			// be sent wherever the caller says (docs/security.md).
			msgs = append(msgs, fmt.Sprintf("metricTemplates[%d].spec.provider.secretRef: a MetricTemplate sent with a request may not use a Secret; "+
				"augur uses Secrets only with MetricTemplates from the cluster or from -f files (docs/security.md)", i))
		}
	}
	if len(msgs) > 0 {
		return nil, badList(msgs)
	}
	return set, nil
}

// templateList splits metricTemplates into its items.
func templateList(raw json.RawMessage) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badf("metricTemplates: want an array of MetricTemplate objects")
	}
	return items, nil
}

// jsonFields maps the JSON member names of a struct to its field indexes.
func jsonFields(t reflect.Type) (map[string]int, []string) {
	byName := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		byName[name] = i
		names = append(names, name)
	}
	return byName, names
}

// Members of the request bodies that are not decoded as plain JSON.
const (
	memberCanary    = "canary"
	memberTemplates = "metricTemplates"
	memberMetric    = "metric"
	memberStatus    = "status"
)

// decodeMembers decodes a request body into the struct dst points to: the
// members named in special go to their functions, every other member that
// is a JSON field of the struct is decoded strictly into it (so fields added
// to the service's request types are accepted without a change here), and
// any other member is an unknown field. Problems of all members are
// reported together.
func decodeMembers(b []byte, dst any, special map[string]func(json.RawMessage) error) error {
	fields, err := objectFields(b, bodyPath)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	byName, names := jsonFields(v.Type())
	var msgs []string
	note := func(err error) {
		if err != nil {
			msgs = append(msgs, strings.TrimPrefix(err.Error(), service.ErrBadRequest.Error()+": "))
		}
	}
	for _, f := range fields {
		if fn, ok := special[f.name]; ok {
			note(fn(f.raw))
			continue
		}
		i, ok := byName[f.name]
		if !ok {
			msgs = append(msgs, unknownField(bodyPath, f.name, names))
			continue
		}
		note(strictUnmarshal(f.raw, v.Field(i).Addr().Interface(), f.name))
	}
	return badList(msgs)
}

// decodeDecide reads a POST /v1/decide body. Without a status member the
// canary's own status (a Canary read from the cluster has one) is used.
func decodeDecide(b []byte) (service.DecideRequest, error) {
	var req service.DecideRequest
	var canary json.RawMessage
	var templates []json.RawMessage
	statusGiven := false
	err := decodeMembers(b, &req, map[string]func(json.RawMessage) error{
		memberCanary: func(raw json.RawMessage) error { canary = raw; return nil },
		memberTemplates: func(raw json.RawMessage) (err error) {
			templates, err = templateList(raw)
			return err
		},
		memberStatus: func(raw json.RawMessage) error {
			statusGiven = !isNull(raw)
			return strictUnmarshal(raw, &req.Status, memberStatus)
		},
	})
	var msgs []string
	if err != nil {
		msgs = append(msgs, strings.TrimPrefix(err.Error(), service.ErrBadRequest.Error()+": "))
	}
	if req.Webhooks != "" && !slices.Contains([]string{service.WebhooksCall, service.WebhooksPass, service.WebhooksFail}, req.Webhooks) {
		msgs = append(msgs, fmt.Sprintf("webhooks: %q: want call, pass or fail", req.Webhooks))
	}
	for _, name := range sortedKeys(req.Values) {
		if v := req.Values[name]; (v.Value == nil) == (v.Error == "") {
			msgs = append(msgs, fmt.Sprintf("values.%s: want exactly one of value (a number) and error (no-values, multiple-values or a message)", name))
		}
	}
	if len(msgs) > 0 {
		return req, badList(msgs)
	}
	set, err := decodeObjects(canary, templates)
	if err != nil {
		return req, err
	}
	req.Canary = set.Canaries[0]
	req.MetricTemplates = set.Templates
	if !statusGiven {
		req.Status = req.Canary.Status
	}
	return req, nil
}

// decodeQuery reads a POST /v1/query body.
func decodeQuery(b []byte) (service.QueryRequest, error) {
	var req service.QueryRequest
	var canary json.RawMessage
	var templates []json.RawMessage
	err := decodeMembers(b, &req, map[string]func(json.RawMessage) error{
		memberCanary: func(raw json.RawMessage) error { canary = raw; return nil },
		memberTemplates: func(raw json.RawMessage) (err error) {
			templates, err = templateList(raw)
			return err
		},
		memberMetric: func(raw json.RawMessage) error {
			if isNull(raw) {
				return nil
			}
			list := append(append([]byte("["), raw...), ']')
			ms, err := decodeMetrics(list, func(rest string) string { return memberMetric + strings.TrimPrefix(rest, "[0]") })
			if err == nil {
				req.Metric = &ms[0]
			}
			return err
		},
	})
	if err != nil {
		return req, err
	}
	set, err := decodeObjects(canary, templates)
	if err != nil {
		return req, err
	}
	req.Canary = set.Canaries[0]
	req.MetricTemplates = set.Templates
	return req, nil
}

// metricsPrefix is where decodeMetrics puts the list in its wrapper Canary.
const metricsPrefix = "spec.analysis.metrics"

// decodeMetrics strictly decodes and validates a JSON array of Flagger
// CanaryMetric objects (analysis.metrics entries) by wrapping it in a
// minimal Canary, so that the rules are exactly those of a Canary file.
// rename maps the remainder of a field path below the list ("[0].interval")
// to the name the user wrote.
func decodeMetrics(list []byte, rename func(rest string) string) ([]analysis.Metric, error) {
	var b bytes.Buffer
	b.WriteString(`{"apiVersion":"` + analysis.APIVersion + `","kind":"Canary","metadata":{"name":"metrics"},` +
		`"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"metrics"},` +
		`"analysis":{"interval":"1m","threshold":1,"iterations":1,"metrics":`)
	b.Write(list)
	b.WriteString(`}}}`)
	mapPath := func(_, path string) string {
		rest, ok := strings.CutPrefix(path, metricsPrefix)
		if !ok {
			return rename("")
		}
		return rename(rest)
	}
	set, err := manifest.DecodeBytes(b.Bytes(), "metrics")
	if err != nil {
		return nil, badList(manifestMessages(err, mapPath))
	}
	if err := manifest.Validate(set); err != nil {
		return nil, badList(manifestMessages(err, mapPath))
	}
	if len(set.Canaries) != 1 || set.Canaries[0].Spec.Analysis == nil || len(set.Canaries[0].Spec.Analysis.Metrics) == 0 {
		return nil, badf("%s: want at least one metric", rename(""))
	}
	return set.Canaries[0].Spec.Analysis.Metrics, nil
}
