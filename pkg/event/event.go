// Package event reads the GitHub event that started dispatch-receiver and decides, as a pure
// function of the event and the workflow's inputs, whether it is the signal to promote a release
// candidate, and why (not).
//
// Three routes reach it: repository_dispatch (a Flux githubdispatch Provider forwarding a Flux
// event), status (a Flux github Provider posting a commit status) and workflow_dispatch (a person
// asking for a promotion by hand). The payload is untrusted: identifiers leave Decide only after
// ref's strict parsers accepted them, and free text reaches a Reason only escaped and cut short.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// The event names Decide handles (GITHUB_EVENT_NAME).
const (
	RepositoryDispatch = "repository_dispatch"
	Status             = "status"
	WorkflowDispatch   = "workflow_dispatch"
)

// DefaultSuccessPattern matches the Flux messages that mean "applied and healthy". "Health check
// passed" is what reaches a githubdispatch Provider; "Reconciliation finished" only arrives through
// a generic-webhook relay, because Flux drops it for every provider but commit-status ones.
const DefaultSuccessPattern = `^(Health check passed|Reconciliation finished)`

// Defaults for the Criteria left empty.
const (
	DefaultClusterKey    = "cluster"
	DefaultStatusContext = "kustomization/platform/"
)

// MaxPayloadBytes bounds the event file: the events handled here are a few kilobytes, so anything
// near this size is not one of them, and refusing it keeps a hostile payload from costing memory.
const MaxPayloadBytes = 1 << 20

// Errors wrap one of these, so a caller can tell "fix the workflow or the inputs" (a usage error)
// from "the event is not what GitHub or Flux send" with errors.Is.
var (
	// ErrUsage means the workflow, its inputs or the person who started it must change something:
	// invalid criteria, an event name the workflow should not trigger on, bad manual inputs.
	ErrUsage = errors.New("usage error")
	// ErrMalformed means the event payload is not shaped as GitHub or Flux send it.
	ErrMalformed = errors.New("malformed event")
)

// Criteria are the dispatch-receiver inputs.
type Criteria struct {
	Object         string // "Kustomization/platform.flux-system"; required for repository_dispatch
	Cluster        string // optional; when set, metadata[ClusterKey] must equal it
	ClusterKey     string // default DefaultClusterKey
	SuccessPattern string // Go regexp; default DefaultSuccessPattern
	StatusContext  string // prefix; default DefaultStatusContext
	// Stages, when set, reads repository_dispatch events as coming from the stage of the chain
	// their cluster metadata names (ReadStage). nil reads them as today's two environments do.
	Stages *stage.Chain
}

// Decision is dispatch-receiver's answer.
//
// Revision, Digest, Sha and Version are set only when Promote is true, so a later step that checks
// "digest is not empty" can never act on an event that was ignored.
type Decision struct {
	Promote bool
	// Reason is "promote: …" or "ignored: …", one line a person can act on; text taken from the
	// payload appears in it quoted and escaped.
	Reason   string
	Revision string // "<tag>@sha256:<hex>" when known
	Digest   string // "sha256:<hex>" when known
	Sha      string // commit sha when known (full or short as given)
	Version  string // the release-candidate tag when known (e.g. "0.4.2-rc.3")

	// The validation the event reports, for records people read (release notes): the cluster it
	// came from, its message (one line, control characters removed, at most 200 characters) and
	// its time (RFC 3339). Empty when the route does not carry them.
	Cluster, Message, Time string

	// With Criteria.Stages: Stage is the stage the event came from, and Next the stage a healthy
	// event promotes into (empty from the last stage). Failed is the revision a failure event
	// from Stage reports (Promote is false), which cancels that candidate's pass there.
	Stage, Next string
	Failed      string
}

// plainText makes untrusted text safe to carry as a one-line output: control and format
// characters become spaces, and it is cut to max runes.
func plainText(s string, max int) string { return strings.TrimSpace(ref.PlainLine(s, max)) }

// rfc3339 returns s when it is an RFC 3339 time, else "".
func rfc3339(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return ""
}

// Decide reads the event named eventName (GITHUB_EVENT_NAME) from payload (the bytes of
// GITHUB_EVENT_PATH).
//
// An event that is well-formed but not a promotion signal gives Promote=false and a reason, nil
// error. Malformed input (not JSON, wrong types, missing required fields for the route, invalid
// criteria, an unsupported event name, an oversized payload) gives an error wrapping ErrUsage or
// ErrMalformed whose message says what is wrong and what to do.
//
// Criteria are checked only on the route they apply to, so a mistake in the automatic route's
// settings cannot block an emergency workflow_dispatch.
func Decide(eventName string, payload []byte, c Criteria) (Decision, error) {
	var decide func([]byte, Criteria) (Decision, error)
	switch eventName {
	case RepositoryDispatch:
		decide = decideDispatch
	case Status:
		decide = decideStatus
	case WorkflowDispatch:
		decide = decideManual
	default:
		return Decision{}, usagef("dispatch-receiver handles %s, %s and %s events; got %s: trigger the workflow only on those",
			RepositoryDispatch, Status, WorkflowDispatch, display(eventName))
	}
	if len(payload) > MaxPayloadBytes {
		return Decision{}, malformedf("%s event payload is %d bytes, over the %d-byte limit; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run",
			eventName, len(payload), MaxPayloadBytes)
	}
	return decide(payload, c)
}

func promote(format string, a ...any) Decision {
	return Decision{Promote: true, Reason: "promote: " + fmt.Sprintf(format, a...)}
}

func ignore(format string, a ...any) Decision {
	return Decision{Reason: "ignored: " + fmt.Sprintf(format, a...)}
}

// classified lets a message read naturally while errors.Is still finds its class.
type classified struct {
	class error
	msg   string
}

func (e *classified) Error() string   { return e.msg }
func (e *classified) Is(t error) bool { return t == e.class }

func usagef(format string, a ...any) error {
	return &classified{class: ErrUsage, msg: fmt.Sprintf(format, a...)}
}

func malformedf(format string, a ...any) error {
	return &classified{class: ErrMalformed, msg: fmt.Sprintf(format, a...)}
}

// decodeObject unmarshals the JSON object at path (a dotted path such as "client_payload", ""
// for the whole payload) into v, and words errors by that path instead of by Go types.
func decodeObject(path string, raw []byte, v any) error {
	label := path
	if label == "" {
		label = "the event payload"
	}
	if !present(raw) {
		return fmt.Errorf("%s is missing", label)
	}
	if path, key, dup := duplicateKey(raw); dup {
		return fmt.Errorf("%s repeats the key %s%s (compared without case, as Go and most JSON readers match keys): the payload can be read two ways, and Flux and GitHub never send one like it", label, display(key), inObject(path))
	}
	err := json.Unmarshal(raw, v)
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := label
		if typeErr.Field != "" {
			field = strings.TrimPrefix(path+"."+typeErr.Field, ".")
		}
		return fmt.Errorf("%s is a JSON %s, want %s", field, typeErr.Value, jsonKind(typeErr.Type))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%s is not valid JSON (at byte %d: %v)", label, syntaxErr.Offset, err)
	}
	return fmt.Errorf("%s: %v", label, err)
}

// duplicateKey finds a key that appears twice in one object of raw, compared without case:
// encoding/json fills a struct field from any spelling of its key and keeps the last, so
// {"severity":"error","SEVERITY":"info"} would be read as info. path is the object's key path.
// Invalid JSON has no duplicates here; decoding reports it.
func duplicateKey(raw []byte) (path, key string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		object bool
		keys   map[string]bool
		name   string
		// expectKey is true inside an object when the next string token is a key.
		expectKey bool
	}
	var stack []*frame
	names := func() string {
		var parts []string
		for _, f := range stack[1:] {
			parts = append(parts, f.name)
		}
		return strings.Join(parts, ".")
	}
	pending := "" // the key whose value comes next
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.expectKey = true
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, name: pending, expectKey: t == '{'})
				pending = ""
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.expectKey {
				folded := strings.ToLower(t)
				if top.keys[folded] {
					return names(), t, true
				}
				top.keys[folded] = true
				top.expectKey = false
				pending = t
				continue
			}
			if top != nil && top.object {
				top.expectKey = true
			}
		default:
			if top != nil && top.object {
				top.expectKey = true
			}
		}
	}
}

// inObject words where a repeated key is: "" at the top, " in a.b" below it.
func inObject(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// present tells a JSON value from an absent one; GitHub and Flux write null for "not set".
func present(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && string(t) != "null"
}

// jsonKind names what a decode target wants; the targets here are strings, structs and maps.
func jsonKind(t reflect.Type) string {
	if t != nil && t.Kind() == reflect.String {
		return "a string"
	}
	return "an object"
}

// stringFields reads the named keys of a JSON object whose other values may be anything: GitHub
// and Flux write strings where this package looks, so another type there is malformed, but a
// value it never reads must not fail the event.
func stringFields(path string, fields map[string]json.RawMessage, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		raw, ok := fields[k]
		if !ok || !present(raw) {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s.%s is %s, want a string", path, display(k), jsonValueKind(raw))
		}
		out[k] = s
	}
	return out, nil
}

// jsonValueKind names a valid JSON value that is neither a string nor null.
func jsonValueKind(raw []byte) string {
	switch t := bytes.TrimSpace(raw); {
	case bytes.HasPrefix(t, []byte("{")):
		return "a JSON object"
	case bytes.HasPrefix(t, []byte("[")):
		return "a JSON array"
	case bytes.HasPrefix(t, []byte("t")), bytes.HasPrefix(t, []byte("f")):
		return "a JSON boolean"
	}
	return "a JSON number"
}

// maxQuotedRunes keeps a hostile or merely verbose message from swamping the one-line Reason.
const maxQuotedRunes = 120

// quote renders untrusted text for a Reason or an error. strconv.Quote escapes every control and
// non-printing character (newlines, carriage returns, escape sequences, U+2028, bidi overrides),
// so the text cannot start a new output line or forge a "::set-output::"-style workflow command;
// "%" is escaped as "%25" because the runner decodes "%0A" to a newline inside workflow commands.
func quote(s string) string {
	suffix := ""
	if utf8.RuneCountInString(s) > maxQuotedRunes {
		n := 0
		for i := range s {
			if n == maxQuotedRunes {
				suffix = fmt.Sprintf("… (%d bytes)", len(s))
				s = s[:i]
				break
			}
			n++
		}
	}
	return strings.ReplaceAll(strconv.Quote(s), "%", "%25") + suffix
}

// plainName is what Kubernetes object references, cluster names, status contexts and GitHub
// logins look like; such text reads better bare, and it carries nothing a terminal or the runner
// would interpret.
var plainName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$`)

// lazyRegexp compiles expr on first use.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// display renders an untrusted name: bare when it is plainly a name, quoted otherwise.
func display(s string) string {
	if plainName().MatchString(s) {
		return s
	}
	return quote(s)
}
