package pipeline

import "github.com/ocipromote/ocipromote/pkg/stage"

// chainOr is c, or the default chain (integration, live) when c is the zero Chain.
func chainOr(c stage.Chain) stage.Chain {
	if c.Len() == 0 {
		return stage.MustDefault()
	}
	return c
}
