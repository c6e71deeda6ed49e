package status

import (
	"encoding/json"

	"github.com/ocipromote/ocipromote/pkg/hold"
)

// MarshalJSON writes the report with lists that are never null (an empty repository has
// "artifacts": []), and a hold that was never set as {"state": "off"} alone, without the empty
// reason and actor and the zero time of a record that does not exist.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method
	out := struct {
		plain
		Hold any `json:"hold"`
	}{plain: plain(r), Hold: r.Hold}
	if out.Artifacts == nil {
		out.Artifacts = []Artifact{}
	}
	if out.Selections == nil {
		out.Selections = []Selection{}
	}
	if out.HoldRecords == nil {
		out.HoldRecords = []hold.State{}
	}
	if out.StageHolds == nil {
		out.StageHolds = []StageHold{}
	}
	if r.Hold.Tag == "" {
		out.Hold = struct {
			State string `json:"state"`
		}{hold.Off}
	}
	return json.Marshal(out)
}
