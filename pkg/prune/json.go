package prune

import "encoding/json"

// MarshalJSON writes the result with lists that are never null, so that `jq '.deleted | length'`
// works on a run that deleted nothing.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	out := plain(r)
	for _, l := range []*[]Item{&out.Plan.Delete, &out.Plan.Keep, &out.Deleted, &out.Skipped} {
		if *l == nil {
			*l = []Item{}
		}
	}
	return json.Marshal(out)
}
