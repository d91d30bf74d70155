package flowrun

import (
	"context"
	"errors"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Versions returns a stored flow (its latest version) and every version
// of it, newest first, without their sources.
func (s *Service) Versions(ctx context.Context, idOrName string) (*store.Flow, []*store.FlowVersion, error) {
	fl, _, err := s.Get(ctx, idOrName)
	if err != nil {
		return nil, nil, err
	}
	vs, err := s.store.ListFlowVersions(ctx, fl.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.New(problem.NotFound, "flow %q was deleted meanwhile", idOrName).
			WithRemedy("list the flows with GET /api/v1/flows (cardflow flows list)")
	}
	if err != nil {
		return nil, nil, err
	}
	return fl, vs, nil
}

// Version returns a stored flow (its latest version) and its version n
// with the source.
func (s *Service) Version(ctx context.Context, idOrName string, n int) (*store.Flow, *store.FlowVersion, error) {
	fl, _, err := s.Get(ctx, idOrName)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.store.GetFlowVersion(ctx, fl.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.New(problem.NotFound, "flow %s has no version %d; its versions are 1 to %d", fl.Name, n, fl.Version).
			WithRemedy("list them with GET /api/v1/flows/%s/versions (or cardflow flows versions %s)", fl.ID, fl.Name)
	}
	if err != nil {
		return nil, nil, err
	}
	return fl, v, nil
}
