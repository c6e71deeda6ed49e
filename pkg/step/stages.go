package step

import (
	"strings"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// StagesInput is the chain of stages a candidate is promoted through (package stage). Every
// binary that writes or reads a stage's tags takes it; the default is today's two environments,
// with today's tags.
var StagesInput = actionio.Input{Name: "stages", Default: stage.Default,
	Usage: "the stages in promotion order, separated by commas: the first takes every build (X.Y.Z-rc.N), the last is stable (X.Y.Z), one between gets X.Y.Z-<stage>.N"}

// WindowsInput are the change windows of the promotions into a stage.
var WindowsInput = actionio.Input{Name: "windows", List: true,
	Usage: "change windows of the promotions into a stage, STAGE=DAYS HH:MM-HH:MM ZONE, e.g. prod=Mon-Thu 09:00-16:00 Europe/London; several per stage allowed"}

// SoakInput are the soak times of the stages a candidate leaves.
var SoakInput = actionio.Input{Name: "soak", List: true,
	Usage: "how long a candidate runs healthy in a stage before it leaves it, STAGE=DURATION, e.g. preprod=2h"}

// Chain reads StagesInput; a malformed chain is a usage error.
func Chain(v *actionio.Values) (stage.Chain, error) {
	c, err := stage.Parse(v.Get(StagesInput.Name))
	if err != nil {
		return stage.Chain{}, actionio.Usagef("stages: %v", err)
	}
	return c, nil
}

// Gates reads WindowsInput and SoakInput for chain c; a malformed entry is a usage error.
func Gates(v *actionio.Values, c stage.Chain) (stage.Windows, stage.Soaks, error) {
	windows, err := stage.ParseWindows(c, strings.Split(v.Get(WindowsInput.Name), "\n"))
	if err != nil {
		return nil, nil, actionio.Usagef("%v", err)
	}
	soaks, err := stage.ParseSoak(c, strings.Split(v.Get(SoakInput.Name), "\n"))
	if err != nil {
		return nil, nil, actionio.Usagef("%v", err)
	}
	return windows, soaks, nil
}
