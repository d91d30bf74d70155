package flow

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cardflow/cardflow/internal/problem"
)

// RunCostBudget bounds the work of all the expressions of one plan or run
// together, in CEL cost units (costLimit bounds one evaluation). A
// for_each over 100 000 devices with an if and two inputs spends about
// 1 000 000; the examples over 100 000 devices, each with two users, under
// 15 000 000. A unit takes about 0.1 µs of a server's processor, so the
// budget holds a plan or run to some seconds of it.
const RunCostBudget = 100_000_000

// exprBudget is what the expressions of one plan or run have left to
// spend (RunCostBudget). Items of a step charge it concurrently.
type exprBudget struct {
	limit uint64
	used  atomic.Uint64
	// step is the step whose expressions are evaluated: steps run one
	// after another, and it is written before a step's items start.
	step string

	mu    sync.Mutex
	spent *problem.Error // set once the budget is spent
}

func newExprBudget(limit uint64) *exprBudget { return &exprBudget{limit: limit} }

type budgetKey struct{}

// withBudget returns ctx whose expression evaluations charge b.
func withBudget(ctx context.Context, b *exprBudget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// budgetOf is the budget that ctx's evaluations charge; nil for none (the
// trigger's own expressions, evaluated once per firing).
func budgetOf(ctx context.Context) *exprBudget {
	b, _ := ctx.Value(budgetKey{}).(*exprBudget)
	return b
}

// charge adds cost to what was spent, and returns the budget's error once
// the total is over the limit.
func (b *exprBudget) charge(cost uint64) error {
	if b.used.Add(cost) <= b.limit {
		return nil
	}
	return b.err()
}

// err is the error of a spent budget: nil while some is left.
func (b *exprBudget) err() error {
	if b == nil || b.used.Load() <= b.limit {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent == nil {
		b.spent = problem.New(problem.InvalidInput,
			"the flow's expressions went over the budget of one plan or run (%s CEL cost units in all) in step %q", thousands(b.limit), b.step).
			WithRemedy("make the step's expressions cheaper: let the search card select the devices (its filters, search) rather than filter() or exists() over every device, and do not nest one loop over a list inside another; or split the flow into flows that each handle fewer devices")
	}
	return b.spent
}

// thousands writes n with a space between groups of three digits, as the
// documents write big numbers: 50 000 000.
func thousands(n uint64) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	return string(out)
}
