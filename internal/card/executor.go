package card

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
)

// ConnectionInfo is what the Executor needs to know about a connection.
// Domain is the org's host (https is implied) or a trusted origin such as
// http://127.0.0.1:9090. ActingAs is the Okta login that authorized it.
// ScopeMode ("default" or "custom") and RequestedScopes say what the
// connection asked Okta for, so an insufficient_scope remedy can say
// whether to tick the scope or to grant it to the OAuth app.
type ConnectionInfo struct {
	ID           string
	Nickname     string
	Domain       string
	Status       string // "active", "pending", "needs_reauthorization", "error"
	StatusReason string
	Remedy       string
	// StatusReasonCode is the stable code of why it is not active
	// (store.Reason*); "" while active.
	StatusReasonCode string
	ScopeMode        string // "default", "custom", or empty when unknown
	RequestedScopes  []string
	GrantedScopes    []string
	ActingAs         string
	// HTTP, when set, is the client for this run's calls to the org,
	// which Resolve may have primed with what it read (sparing a second
	// read of the connection); nil means Connections.HTTPClient(ID).
	HTTP *http.Client
	// ServiceClientID is set for a service connection: the client ID of
	// the API Services app it acts as.
	ServiceClientID string
	// NeverAuthorized is set for a person's connection that no sign-in
	// has authorized yet: pending, or in error after its first sign-in
	// failed, it is refused as not authorized yet (connection_pending).
	NeverAuthorized bool
}

// Connections resolves connections and gives HTTP clients that call their
// org with their access token (refreshing it as needed). The app adapts
// connection.Manager to it. Resolve returns a *problem.Error (not_found,
// ...) for a connection that cannot be used as named.
type Connections interface {
	Resolve(ctx context.Context, connector, idOrNickname string) (ConnectionInfo, error)
	HTTPClient(id string) *http.Client
}

// ForbiddenChecker is implemented by Connections that can tell whether a
// connection whose card call Okta refused with E0000006 (no admin role
// that allows it) can do its job at all. CardForbidden checks connection
// id as connections test does, with the read-only device call; when the
// org refuses that too, it stores the connection as not active (reason
// code no_admin_role) and returns it as stored, and true. A refusal that
// concerns the call alone (a role that may read devices but not change
// them, a device outside the role's resource set) leaves the connection
// as it is: false.
type ForbiddenChecker interface {
	CardForbidden(ctx context.Context, id string) (ConnectionInfo, bool)
}

// Recorder persists runs and their audit events. StartRun stores the run
// as running and fills in r.ID, before the card calls Okta, so that a run
// in flight is known after a crash; FinishRun stores the finished run
// together with its audit event. StoreRecorder implements it over a
// store.Store.
type Recorder interface {
	StartRun(ctx context.Context, r *store.Run) error
	FinishRun(ctx context.Context, r *store.Run, e *store.AuditEvent) error
}

// Request asks for one card run. Card is "okta-devices/<card-id>";
// Connection an id or nickname; Actor who started it (for a flow run's
// item: who started the flow run). FlowRunID, StepID and ItemIndex tie it to a flow run. DryRun makes
// Run a Plan.
type Request struct {
	Card       string
	Connection string
	Input      map[string]any
	Actor      store.Actor
	FlowRunID  string
	StepID     string
	ItemIndex  int
	DryRun     bool
	// OnWait, when set, is called whenever the run waits d for the org's
	// rate limit (or between retries); a flow run shows it as progress.
	// It must be safe for concurrent use.
	OnWait func(d time.Duration)
	// RecordLater makes Run leave storing the finished run and its audit
	// event to the caller: Result.Finished holds them. A flow run stores
	// them together with the item (store.FinishFlowItem), one commit
	// instead of two. The run is stored as running before the card calls
	// Okta either way.
	RecordLater bool
	// BeforeCall, when set, is called once the run is stored as running
	// and before the card calls Okta; when it returns an error the card
	// does not run and the run fails. A flow item's worker waits there for
	// its previous item to be stored.
	BeforeCall func() error
	// DeviceName is the display name of the device the run acts on, when
	// the caller knows it (a flow's earlier output); it is recorded with
	// the run. Without it a run records the name its own output shows.
	DeviceName string
	// Plan names the flow plan the request is made for (a read step of
	// `cardflow flows plan`): its run, when recorded, and the run's
	// audit event say so. Zero for every other run.
	Plan store.PlanRef
	// ReadDevice makes a lifecycle or delete card read the device even
	// when the input gives its known status: the retry of an item whose
	// interrupted attempt may have changed the device since the status
	// was known, so that finding it changed credits that attempt
	// (AlreadyDone) instead of calling Okta again.
	ReadDevice bool
}

// Finished is a finished run and its audit event, to be stored by the
// caller of a Run with Request.RecordLater (Recorder.FinishRun stores
// them alone).
type Finished struct {
	Run   *store.Run
	Event *store.AuditEvent
}

// Run statuses.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Result is a finished run (or plan): its status, output or error, and
// Okta's request ids. Change is set by Plan when a manage card would change
// a device.
type Result struct {
	RunID      string
	Status     string
	Output     map[string]any
	Error      *problem.Error
	RequestIDs []string
	Change     *Change
	// Unsimulated, set by Plan for a call whose effect cannot be predicted
	// (custom-api-action with a method other than GET), is that call.
	Unsimulated string
	// Finished, set by Run with Request.RecordLater when there is a
	// Recorder, is the finished run and its audit event, not yet stored.
	Finished *Finished
	// DeviceName is the display name of the device the run acted on, as
	// the request gave it, the card read it or its output shows it
	// (recorded with the run); "" when none of them had it.
	DeviceName string
	// NotSent says that the run failed having changed nothing at the org:
	// a stop (StopWaiting) ended its wait to send a call, and no request
	// it had sent before was anything but a read (GET). A flow item its
	// run's cancel stopped so did not run.
	NotSent bool
}

// Executor runs cards through connections. Set its fields before first use;
// it is then safe for concurrent use and must not be copied.
type Executor struct {
	// Connections resolves connections (required).
	Connections Connections
	// Recorder records runs and audit events; nil records nothing.
	Recorder Recorder
	// Budget is the rate budget shared by every run; nil means one
	// in-process okta.Budget made on first use (so one per org and bucket
	// for this Executor's process).
	Budget okta.Limiter
	// Okta is the template of the clients built per run: retries, waits,
	// size caps and metrics. BaseURL, HTTP, Budget and OnResponse are set
	// per run.
	Okta okta.Client
	// Metrics counts runs; nil records nothing.
	Metrics *Metrics
	// Now is the clock of run records; nil means time.Now.
	Now func() time.Time
	// Logger gets one debug line per run; nil discards.
	Logger *slog.Logger
	// Owner names this server on the card runs it records, and LeaseTTL
	// is how long its lease on them lasts without a renewal (RunLeases
	// renews it; zero means DefaultLeaseTTL). Owner is required when a
	// RunLeases sweeps the store: a direct run recorded without a lease
	// counts as lapsed.
	Owner    string
	LeaseTTL time.Duration

	once   sync.Once
	budget okta.Limiter

	mu      sync.Mutex
	running map[string]struct{} // the recorded runs being executed, by id
}

func (e *Executor) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Running returns the ids of the recorded card runs this Executor is
// executing now, whose leases RunLeases renews. A run leaves the list when
// its execution ends, whether or not its outcome could be stored.
func (e *Executor) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Collect(maps.Keys(e.running))
}

func (e *Executor) track(id string) (untrack func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running == nil {
		e.running = map[string]struct{}{}
	}
	e.running[id] = struct{}{}
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.running, id)
	}
}

// StopWaiting returns ctx whose card runs, once stop ends, send no call
// to Okta that would first wait (for the org's rate limit, or to try
// again), and fail saying so, while the calls they have sent go on under
// ctx (okta.WithStopWaiting). A *StopReason as stop's cause
// (context.Cause) gives their error its why and remedy.
func StopWaiting(ctx, stop context.Context) context.Context {
	return okta.WithStopWaiting(ctx, stop)
}

// StopReason is why the stop of StopWaiting ended, for the error of the
// card runs it stopped: Why says it after "... not sent (again):" (an
// event: "its flow run was asked to stop"); Remedy is the error's remedy
// when the stopped call changed nothing (never sent, refused 429, a read),
// while one whose effect is unknown gives the interrupted run's.
type StopReason struct{ Why, Remedy string }

func (r *StopReason) Error() string { return r.Why }

// InFlight is how many of this executor's card runs are recorded as
// running and not finished yet (tracked with an Owner; 0 without).
func (e *Executor) InFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

func (e *Executor) limiter() okta.Limiter {
	e.once.Do(func() {
		e.budget = e.Budget
		if e.budget == nil {
			e.budget = okta.NewBudget()
		}
	})
	return e.budget
}

// prepared is a request that names a known card, a valid input and an
// existing connection.
type prepared struct {
	req  Request
	card *Card
	in   map[string]any
	conn ConnectionInfo
}

// prepare checks the request itself. Its errors (unknown card, invalid
// input, unknown connection) reject the request; no run is recorded.
func (e *Executor) prepare(ctx context.Context, req Request) (*prepared, error) {
	c := lookup(req.Card)
	if c == nil {
		return nil, unknownCard(req.Card)
	}
	if c.Kind == KindEvent {
		return nil, problem.New(problem.InvalidInput, "card %s is an event card: it starts flows (on.event.card of a flow) and cannot be run", c.Ref).
			WithRemedy("put it under on.event.card of a flow, or run one of the connector's action cards").WithDetail("field", "card")
	}
	in, err := c.CheckInput(req.Input)
	if err != nil {
		return nil, err
	}
	conn, err := e.Connections.Resolve(ctx, ConnectorID, req.Connection)
	if err != nil {
		if _, ok := problem.As(err); ok {
			return nil, err
		}
		return nil, problem.New(problem.Internal, "internal error (resolving connection %q)", req.Connection).Wrap(err)
	}
	return &prepared{req: req, card: c, in: in, conn: conn}, nil
}

func unknownCard(ref string) *problem.Error {
	var refs, same []string
	for _, c := range connectors {
		for _, cd := range c.Cards {
			if cd.Kind == KindAction {
				refs = append(refs, cd.Ref)
				if !strings.Contains(ref, "/") && strings.HasSuffix(cd.Ref, "/"+ref) {
					same = append(same, cd.Ref)
				}
			}
		}
	}
	p := problem.New(problem.InvalidInput, "unknown card %q", ref).WithDetail("field", "card")
	if len(same) == 1 {
		return p.WithRemedy("write it as connector/card: %s", same[0])
	}
	if near := nearestCard(ref, refs); near != "" {
		return p.WithRemedy("did you mean %s? The cards: %s", near, strings.Join(refs, ", ")).WithDetail("suggestion", near)
	}
	return p.WithRemedy("use one of %s", strings.Join(refs, ", "))
}

// nearestCard is the card of refs that a misspelt ref probably meant,
// compared as written: connector/card with the references, a bare name
// with the cards' names. "" when none is near.
func nearestCard(ref string, refs []string) string {
	names := refs
	if !strings.Contains(ref, "/") {
		names = make([]string, len(refs))
		for i, r := range refs {
			_, names[i], _ = strings.Cut(r, "/")
		}
	}
	if near := spelling.Closest(ref, names); len(near) > 0 {
		return refs[slices.Index(names, near[0])]
	}
	return ""
}

// RequiredScope returns the Okta scope a run of the card with input needs:
// the card's scope, or for custom-api-action the scope inferred from its
// method and path ("" when cardflow does not know it; Okta decides).
func (c Card) RequiredScope(input map[string]any) string {
	if c.ID != "custom-api-action" {
		return c.Scope
	}
	method, _ := input["method"].(string)
	rel, _ := input["relativeUrl"].(string)
	p, _, err := okta.ParseAPIPath(rel)
	if err != nil {
		return ""
	}
	return inferScope(strings.ToUpper(method), p)
}

// ModeFor returns the card's mode for input: custom-api-action with GET
// reads, with any other method it manages.
func (c Card) ModeFor(input map[string]any) string {
	if m, _ := input["method"].(string); c.ID == "custom-api-action" && strings.EqualFold(m, http.MethodGet) {
		return ModeRead
	}
	return c.Mode
}

// requestIDs collects Okta's request ids of one run, and whether it sent
// a request that may change the org.
type requestIDs struct {
	mu      sync.Mutex
	ids     []string
	changes bool
}

// sent notes a request about to be sent (okta.Client.OnSend): any but a
// GET may change the org, whatever its answer (or none) says.
func (r *requestIDs) sent(method string) {
	if method == http.MethodGet {
		return
	}
	r.mu.Lock()
	r.changes = true
	r.mu.Unlock()
}

// changeSent reports whether the run sent a request that may change the
// org.
func (r *requestIDs) changeSent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changes
}

func (r *requestIDs) add(ri okta.ResponseInfo) {
	if ri.RequestID == "" {
		return
	}
	r.mu.Lock()
	r.ids = append(r.ids, ri.RequestID)
	r.mu.Unlock()
}

func (r *requestIDs) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// invocation checks the connection's status and, before any call to Okta,
// its scopes, and builds the run's Okta client.
func (e *Executor) invocation(p *prepared, ids *requestIDs) (*invocation, *problem.Error) {
	if p.conn.Status != store.StatusActive {
		return nil, notUsable(p.conn)
	}
	if scope := p.card.RequiredScope(p.in); !ScopeGranted(scope, p.conn.GrantedScopes) {
		return nil, insufficientScope(p.card, p.conn, scope, false)
	}
	base, err := orgURL(p.conn.Domain)
	if err != nil {
		return nil, problem.New(problem.Internal, "connection %q has an unusable domain %q", p.conn.Nickname, p.conn.Domain).Wrap(err)
	}
	cl := e.Okta
	cl.BaseURL = base
	cl.HTTP = p.conn.HTTP
	if cl.HTTP == nil {
		cl.HTTP = e.Connections.HTTPClient(p.conn.ID)
	}
	cl.Budget = e.limiter()
	cl.OnResponse = ids.add
	cl.OnSend = ids.sent
	if p.req.OnWait != nil {
		cl.OnWait = p.req.OnWait
	}
	return &invocation{card: p.card, conn: p.conn, client: &cl, in: p.in, readDevice: p.req.ReadDevice}, nil
}

// orgURL returns the origin of a connection's domain.
func orgURL(domain string) (*url.URL, error) {
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("not an http(s) origin")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Run runs a card and records the run and its audit event. A request that
// names an unknown card or connection or has invalid input is rejected with
// a *problem.Error and nothing is recorded. Otherwise the run is recorded
// and the Result says whether it succeeded; its Error is the public
// problem. If recording fails after the card ran, Run returns the Result
// together with an internal error. With req.DryRun, Run is Plan.
func (e *Executor) Run(ctx context.Context, req Request) (*Result, error) {
	if req.DryRun {
		return e.Plan(ctx, req)
	}
	p, err := e.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, p, nil)
}

// RunStream runs search-devices handing each device to emit as its page
// arrives, instead of collecting them in the output (which then holds only
// "count"): memory stays flat however many devices match. An error from
// emit stops the run and fails it.
func (e *Executor) RunStream(ctx context.Context, req Request, emit func(device map[string]any) error) (*Result, error) {
	p, err := e.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	if p.card.ID != "search-devices" {
		return nil, problem.New(problem.InvalidInput, "card %s does not stream; only %s/search-devices does", p.card.Ref, ConnectorID).WithDetail("field", "card")
	}
	return e.run(ctx, p, emit)
}

func (e *Executor) run(ctx context.Context, p *prepared, emit func(map[string]any) error) (*Result, error) {
	start := e.now()
	rec := &store.Run{
		Card: p.card.Ref, ConnectionID: p.conn.ID, ConnectionNickname: p.conn.Nickname,
		Actor: p.req.Actor, ActingAs: p.conn.ActingAs, Status: StatusRunning,
		Input: recordedInput(p.card, p.in), FlowRunID: p.req.FlowRunID, StepID: p.req.StepID,
		ItemIndex: p.req.ItemIndex, StartedAt: start, DeviceName: p.req.DeviceName, Plan: p.req.Plan,
	}
	if e.Owner != "" {
		ttl := e.LeaseTTL
		if ttl <= 0 {
			ttl = DefaultLeaseTTL
		}
		rec.Owner, rec.LeaseUntil = e.Owner, start.Add(ttl)
	}
	if e.Recorder != nil {
		if err := e.Recorder.StartRun(ctx, rec); err != nil {
			return nil, problem.New(problem.Internal, "internal error (recording the run)").Wrap(err)
		}
		if rec.Owner != "" {
			defer e.track(rec.ID)()
		}
	}
	ids := &requestIDs{}
	iv, perr := e.invocation(p, ids)
	if perr == nil && p.req.BeforeCall != nil {
		if err := p.req.BeforeCall(); err != nil {
			perr = problem.New(problem.Internal, "internal error (storing what came before this run)").Wrap(err)
		}
	}
	var out map[string]any
	// cut: the run's caller went away while the card called Okta (a CLI
	// stopped with Ctrl-C, a server's shutdown out of time). Whether the
	// call reached Okta is unknown: the run ends interrupted, as one whose
	// server died does, so that an item run again after its flow run
	// resumes reads the device first and credits this attempt with a
	// change it finds made (Recorded, AlreadyDone).
	var cut, notSent bool
	if perr == nil {
		iv.emit = emit
		var err error
		if out, err = p.card.run(ctx, iv); err != nil {
			perr = e.toProblem(ctx, err, iv)
			cut = errors.Is(err, context.Canceled) && ctx.Err() != nil
			notSent = errors.Is(err, okta.ErrStopped) && !ids.changeSent()
		}
	}
	res := &Result{RunID: rec.ID, Status: StatusSucceeded, Output: out, Error: perr, RequestIDs: ids.list(), NotSent: notSent}
	if perr != nil {
		res.Status, res.Output = StatusFailed, nil
		if cut {
			res.Status = StatusInterrupted
		}
	}
	res.DeviceName = p.req.DeviceName
	if res.DeviceName == "" && iv != nil {
		res.DeviceName = iv.deviceName
	}
	if res.DeviceName == "" {
		res.DeviceName = outputDeviceName(res.Output, p.in)
	}
	e.Metrics.observe(p.card.Ref, res, e.now().Sub(start))
	if e.Logger != nil {
		e.Logger.LogAttrs(ctx, slog.LevelDebug, "card run", slog.String("run", rec.ID), slog.String("card", p.card.Ref),
			slog.String("connection", p.conn.ID), slog.String("status", res.Status), slog.String("code", string(codeOf(perr))))
	}
	if e.Recorder == nil {
		return res, nil
	}
	fin, err := e.finished(rec, p, res)
	if err != nil {
		return res, err
	}
	if p.req.RecordLater {
		res.Finished = fin
		return res, nil
	}
	if err := e.Recorder.FinishRun(context.WithoutCancel(ctx), fin.Run, fin.Event); err != nil {
		return res, problem.New(problem.Internal, "internal error (the run finished with status %s but could not be recorded)", res.Status).Wrap(err)
	}
	return res, nil
}

func codeOf(p *problem.Error) problem.Code {
	if p == nil {
		return ""
	}
	return p.Code
}

// finished completes the run record rec with res and makes its audit
// event.
func (e *Executor) finished(rec *store.Run, p *prepared, res *Result) (*Finished, error) {
	rec.Status = res.Status
	rec.FinishedAt = e.now()
	rec.DeviceName = res.DeviceName
	rec.OktaRequestIDs = res.RequestIDs
	if res.Output != nil {
		b, err := json.Marshal(res.Output)
		if err != nil {
			return nil, problem.New(problem.Internal, "internal error (encoding the run's output)").Wrap(err)
		}
		rec.Output = b
	}
	if res.Error != nil {
		rec.ErrorCode, rec.ErrorMessage, rec.Remedy = string(res.Error.Code), res.Error.Message, res.Error.Remedy
	}
	ev := &store.AuditEvent{
		Time: rec.FinishedAt, Actor: rec.Actor, Action: store.ActionCardRun, ConnectionID: rec.ConnectionID,
		ActingAs: rec.ActingAs, Card: rec.Card, InputSummary: summarizeInput(p.card, p.in), Outcome: "success",
		Plan: rec.Plan,
	}
	if res.Error != nil {
		ev.Outcome, ev.Error = "failure", res.Error.Message
	}
	if n := len(res.RequestIDs); n > 0 {
		// The last request is the one that acted (the POST or DELETE of a
		// manage card); every id stays on the run record.
		ev.OktaRequestID = res.RequestIDs[n-1]
	}
	return &Finished{Run: rec, Event: ev}, nil
}

// Plan says what a run would do without changing anything. A read card
// (and custom-api-action with GET) simply runs, recorded like Run (as of
// req.Plan, the flow plan it is made for). A
// manage card reads the device and returns the Change it would make (none
// when the device is already there) or the problem the run would fail
// with; nothing is posted, deleted or recorded. custom-api-action with
// another method is not called: its output names the call it would make.
func (e *Executor) Plan(ctx context.Context, req Request) (*Result, error) {
	p, err := e.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	if p.card.ModeFor(p.in) == ModeRead {
		return e.run(ctx, p, nil)
	}
	ids := &requestIDs{}
	iv, perr := e.invocation(p, ids)
	if perr != nil {
		return &Result{Status: StatusFailed, Error: perr}, nil
	}
	if p.card.plan == nil {
		cr, err := parseCustom(p.in)
		if err != nil {
			return &Result{Status: StatusFailed, Error: e.toProblem(ctx, err, iv)}, nil
		}
		call := cr.method + " " + cr.path
		return &Result{Status: StatusSucceeded, Output: map[string]any{"wouldCall": call}, Unsimulated: call}, nil
	}
	change, out, err := p.card.plan(ctx, iv)
	if err != nil {
		return &Result{Status: StatusFailed, Error: e.toProblem(ctx, err, iv), RequestIDs: ids.list()}, nil
	}
	return &Result{Status: StatusSucceeded, Output: out, Change: change, RequestIDs: ids.list()}, nil
}

// Preflight checks, without calling Okta, that the card exists and that the
// connection exists, is active and was granted the card's scope. It
// returns nil or the *problem.Error a run would fail with. For
// custom-api-action, whose scope depends on its input, only the connection
// is checked.
func (e *Executor) Preflight(ctx context.Context, cardRef, connection string) error {
	c := lookup(cardRef)
	if c == nil {
		return unknownCard(cardRef)
	}
	conn, err := e.Connections.Resolve(ctx, ConnectorID, connection)
	if err != nil {
		return err
	}
	if conn.Status != store.StatusActive {
		return notUsable(conn)
	}
	if !ScopeGranted(c.Scope, conn.GrantedScopes) {
		return insufficientScope(c, conn, c.Scope, false)
	}
	return nil
}
