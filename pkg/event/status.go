package event

import (
	"strings"

	"github.com/ocipromote/ocipromote/pkg/ref"
)

type statusPayload struct {
	Sha         string `json:"sha"`
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	UpdatedAt   string `json:"updated_at"`
}

// decideStatus handles a commit status, as a Flux github Provider posts one with context
// "kustomization/<name>/<first part of the Provider's uid>". Every status on the repository
// (CI included) starts the workflow, so most of them are simply not ours.
func decideStatus(payload []byte, c Criteria) (Decision, error) {
	prefix := c.StatusContext
	if prefix == "" {
		prefix = DefaultStatusContext
	}
	if !plainName().MatchString(prefix) {
		return Decision{}, usagef("status_context %s is not a commit status context prefix (letters, digits, '.', '_', '/' or '-', at most 200): use the start of the context Flux's github Provider posts, kustomization/<name>/ (default %s)", quote(prefix), DefaultStatusContext)
	}
	var p statusPayload
	if err := decodeObject("", payload, &p); err != nil {
		return Decision{}, malformedf("%s event: %v; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", Status, err)
	}
	if p.Context == "" || p.State == "" {
		return Decision{}, malformedf("%s event needs context and state; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", Status)
	}
	if _, err := ref.Sha(p.Sha); err != nil || len(p.Sha) != 40 {
		return Decision{}, malformedf("%s event sha %s is not a full 40-hex commit sha; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", Status, ref.Quote(p.Sha))
	}
	if !hasContextPrefix(p.Context, prefix) {
		return ignore("commit status %s is not a %s… status; only those promote", display(p.Context), display(prefix)), nil
	}
	if p.State != "success" {
		d := ignore("commit status %s is %s, not success", display(p.Context), display(p.State))
		if p.Description != "" {
			d.Reason += ": " + quote(p.Description)
		}
		return d, nil
	}
	d := promote("commit status %s is success on %s", display(p.Context), p.Sha)
	d.Sha = p.Sha
	d.Message = plainText(p.Context+": "+p.Description, 200)
	d.Time = rfc3339(p.UpdatedAt)
	return d, nil
}

// hasContextPrefix matches whole path segments, so "kustomization/platform" does not take
// statuses of a Kustomization named "platform-staging".
func hasContextPrefix(context, prefix string) bool {
	rest, ok := strings.CutPrefix(context, prefix)
	return ok && (rest == "" || strings.HasSuffix(prefix, "/") || rest[0] == '/')
}
