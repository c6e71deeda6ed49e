package event

import (
	"encoding/json"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// The workflow_dispatch inputs a manual promotion reads.
const (
	InputRevision = "revision"
	InputDigest   = "digest"
	InputSha      = "sha"
)

type manualPayload struct {
	Inputs json.RawMessage `json:"inputs"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// decideManual handles a promotion a person asked for. They chose the artifact, so the
// criteria for Flux's events do not apply, and every problem is theirs to fix: a usage error.
func decideManual(payload []byte, _ Criteria) (Decision, error) {
	var p manualPayload
	if err := decodeObject("", payload, &p); err != nil {
		return Decision{}, malformedf("%s event: %v; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", WorkflowDispatch, err)
	}
	// The workflow may declare other inputs of any type; only these three are read.
	var inputs map[string]json.RawMessage
	if present(p.Inputs) {
		if err := decodeObject("inputs", p.Inputs, &inputs); err != nil {
			return Decision{}, malformedf("%s event: %v; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", WorkflowDispatch, err)
		}
	}
	in, err := stringFields("inputs", inputs, InputRevision, InputDigest, InputSha)
	if err != nil {
		return Decision{}, malformedf("%s event: %v; declare the input as type: string", WorkflowDispatch, err)
	}
	// Values are typed or pasted by a person; stray spaces are not worth a failed run.
	revision := strings.TrimSpace(in[InputRevision])
	digest := strings.TrimSpace(in[InputDigest])
	sha := strings.TrimSpace(in[InputSha])
	if revision == "" && digest == "" && sha == "" {
		return Decision{}, usagef("manual promotion needs at least one input: %s (<tag>@sha256:<digest>, as Flux reports it), %s (sha256:<digest>) or %s (the commit the artifact was built from)",
			InputRevision, InputDigest, InputSha)
	}

	var rev ref.Revision
	var what []string
	if revision != "" {
		if rev, err = ref.ParseRevision(revision); err != nil {
			return Decision{}, usagef("%s input %s: %v", WorkflowDispatch, InputRevision, err)
		}
		what = append(what, rev.String())
	}
	if digest != "" {
		if _, err := ref.Digest(digest); err != nil {
			return Decision{}, usagef("%s input %s: %v", WorkflowDispatch, InputDigest, err)
		}
		if rev.Digest != "" && rev.Digest != digest {
			return Decision{}, usagef("input %s is %s but input %s names %s; give one of them, or the same digest in both", InputDigest, digest, InputRevision, rev.Digest)
		}
		if rev.Digest == "" {
			what = append(what, digest)
		}
	}
	if sha != "" {
		// A sha copied from GitHub's pages may be upper case; tag-validated lowers it too.
		if sha, err = ref.NormalizeSha(sha); err != nil {
			return Decision{}, usagef("%s input %s: %v; give the full or short commit sha (at least 4 hex characters)", WorkflowDispatch, InputSha, err)
		}
		what = append(what, "commit "+sha)
	}

	by := ""
	if p.Sender.Login != "" {
		by = " by " + display(p.Sender.Login)
	}
	d := promote("manual promotion of %s requested%s", strings.Join(what, ", "), by)
	d.Digest = digest
	if rev.Digest != "" {
		d.Digest = rev.Digest
	}
	if rev.Tag != "" {
		d.Revision = rev.String()
		if v, ok := version.Parse(rev.Tag); ok {
			if _, _, isRC := version.RC(v); isRC {
				d.Version = rev.Tag
			}
		}
	}
	d.Sha = sha
	return d, nil
}
