package prune

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/ghapi"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Deleter removes whole manifests from one repository. Run has checked the registry's tags before
// it calls either method (see sincePlan).
type Deleter interface {
	// Check reports, without changing anything, whether Delete would remove it: an error
	// wrapping ErrSkipped when the deleter's own view shows something the plan did not see.
	Check(ctx context.Context, it Item) error
	// Delete removes the manifest it.Digest and every tag on it; a manifest already gone is not
	// an error.
	Delete(ctx context.Context, it Item) error
}

// ErrSkipped marks an artifact the plan would remove but the registry's own view says to keep.
var ErrSkipped = errors.New("skipped")

// Options are Run's inputs besides the registry.
type Options struct {
	Rules
	// Selectors are the clusters' selections; what they pick now is never removed.
	Selectors []status.Selector
	// MaxDeletions caps the deletions of one run (0: no cap); the rest are left for the next run,
	// so that one run stays under GitHub's secondary limit of 500 content-creating requests an hour.
	MaxDeletions int
	DryRun       bool
	Log          *slog.Logger
}

// Result is what Run did: the plan, and of its deletions those done and those skipped.
type Result struct {
	Plan    Plan   `json:"plan"`
	Deleted []Item `json:"deleted"`
	Skipped []Item `json:"skipped,omitempty"`
	// Left are the deletions this run did not get to: the run's MaxDeletions were done, or
	// GitHub rate-limited it. The next run deletes them.
	Left []Item `json:"left,omitempty"`
	// Stopped says why Left is not empty.
	Stopped string `json:"stopped,omitempty"`
	DryRun  bool   `json:"dry_run"`
}

// Run reads the whole repository (one listing, a HEAD per tag, a GET per manifest), decides,
// and deletes, after listing again once the plan is made (see sincePlan). On a dry run it checks the
// same way and asks the deleter what it would do, and deletes nothing, so the dry run's Deleted is
// exactly what a real run removes from the same registry state.
func Run(ctx context.Context, reg status.Registry, del Deleter, o Options) (Result, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := o.Rules.Validate(); err != nil {
		return Result{}, err
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return Result{}, err
	}
	idx, err := status.Resolve(ctx, reg, list, func(string) bool { return true })
	if err != nil {
		return Result{}, err
	}
	rules := o.Rules
	rules.Protect = map[string]string{}
	for d, why := range o.Protect {
		rules.Protect[d] = why
	}
	for _, s := range o.Selectors {
		tag, err := version.Select(list, s.Constraint, s.Filter)
		if err != nil {
			return Result{}, err
		}
		if d, ok := idx.Digests[tag]; ok && tag != "" {
			rules.Protect[d] = fmt.Sprintf("selected by %s (%s picks %s)", s.Name, s.Constraint, tag)
		}
	}
	for _, st := range hold.Stages(list) {
		h, err := st.Read(ctx, reg, list)
		if err != nil {
			return Result{}, err
		}
		if h.Held() && h.Digest != "" {
			where := "live"
			if st != hold.Last {
				where = "stage " + string(st)
			}
			rules.Protect[h.Digest] = where + " was rolled back to it and the hold is on (" + h.Tag + ")"
		}
	}
	if rules.Chain.Len() > 0 {
		stages, err := status.ChainStages(ctx, reg, list, idx, status.Chain{Stages: rules.Chain, Now: rules.Now})
		if err != nil {
			return Result{}, err
		}
		protectStages(rules.Protect, stages)
	}
	var entries []Entry
	for d, ts := range idx.ByDigest() {
		meta := artifact.MetadataFrom(idx.Manifests[d].Annotations())
		e := Entry{Digest: d, Tags: ts, Created: meta.Created, Version: meta.Version}
		if rc := rcOf(e); rc != "" && !hasStable(e) {
			e.SupersededBy = idx.SupersededBy(d, status.ShortOf(ts), rc)
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Digest < entries[j].Digest })
	plan, err := Decide(list, entries, rules)
	if err != nil {
		return Result{}, err
	}
	res := Result{Plan: plan, DryRun: o.DryRun, Deleted: []Item{}}
	since := &sincePlan{reg: reg, planned: tags.NewSet(list)}
	for i, it := range plan.Delete {
		if o.MaxDeletions > 0 && len(res.Deleted) == o.MaxDeletions {
			res.Left, res.Stopped = plan.Delete[i:], fmt.Sprintf("this run's %d deletions (max_deletions) are done; the next run goes on", o.MaxDeletions)
			break
		}
		act := del.Delete
		if o.DryRun {
			act = del.Check
		}
		err := since.check(ctx, it)
		if err == nil {
			err = act(ctx, it)
		}
		if errors.Is(err, ErrSkipped) {
			log.Warn("not deleting", "digest", it.Digest, "reason", err)
			it.Reason = err.Error()
			res.Skipped = append(res.Skipped, it)
			continue
		}
		if stop := stopped(err); stop != nil {
			// GitHub rate-limited the run: send nothing more, and leave the rest for a later run.
			log.Warn("stopped", "reason", stop)
			res.Left, res.Stopped = plan.Delete[i:], stop.Error()
			break
		}
		if err != nil {
			return res, fmt.Errorf("delete %s (tags %v) from %s: %w", it.Digest, it.Tags, reg.Name(), err)
		}
		if !o.DryRun {
			log.Info("deleted", "digest", it.Digest, "tags", it.Tags)
		}
		res.Deleted = append(res.Deleted, it)
	}
	return res, nil
}

// stopped is the rate limit err reports, else nil.
func stopped(err error) *ghapi.StopError {
	var stop *ghapi.StopError
	if errors.As(err, &stop) {
		return stop
	}
	return ghapi.Limited(err)
}

// sincePlan finds the tags written since the plan's listing. Registries delete a manifest with
// every tag on it, so once the plan is made (whatever the deleter) the repository is listed again,
// and a tag the plan did not see that points at an artifact to delete (a rollback or a promotion
// running meanwhile wrote it) keeps that artifact. One listing serves every deletion: a listing
// per deletion would cost a full listing (a hundred requests per 10,000 tags on ghcr.io) for each
// artifact, and still leave a window, since no registry deletes conditionally; run prune in the
// promotion workflow's concurrency group to close it.
type sincePlan struct {
	reg     status.Registry
	planned tags.Set
	// since maps each tag written since the plan to its digest; nil until listed.
	since map[string]string
}

func (s *sincePlan) check(ctx context.Context, it Item) error {
	if s.since == nil {
		list, err := s.reg.Tags(ctx)
		if err != nil {
			return err
		}
		s.since = map[string]string{}
		for _, t := range list {
			if s.planned.Has(t) {
				continue
			}
			d, err := s.reg.Resolve(ctx, t)
			if errors.Is(err, oci.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			s.since[t] = d
		}
	}
	for _, t := range slices.Sorted(maps.Keys(s.since)) {
		if s.since[t] == it.Digest {
			return fmt.Errorf("%w: tag %s was written at %s after the plan listed %s; run prune again to decide with it", ErrSkipped, t, it.Digest, s.reg.Name())
		}
	}
	return nil
}

// protectStages keeps what each stage of a chain selects and every candidate pending for it: a
// candidate that passed the stage before, whose pass records its promotion rests on (pass records
// are never removed), must still be there to be promoted.
func protectStages(protect map[string]string, stages []status.Stage) {
	for _, s := range stages {
		if s.Digest != "" {
			if _, ok := protect[s.Digest]; !ok {
				protect[s.Digest] = fmt.Sprintf("selected by stage %s (it picks %s)", s.Name, s.Tag)
			}
		}
		for _, p := range s.Pending {
			if _, ok := protect[p.Digest]; !ok {
				protect[p.Digest] = fmt.Sprintf("pending for stage %s: %s passed %s and would enter it as %s", s.Name, p.Tag, s.From, p.Target)
			}
		}
	}
}
