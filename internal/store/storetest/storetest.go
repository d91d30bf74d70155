package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/store"
)

// Run runs the conformance suite as subtests of t, in parallel.
//
// open returns a new handle on the database that belongs to the test it is
// given: the first call for a test creates a database with no records,
// later calls with the same test return further handles on that same
// database, as a second server process would have. open registers the
// handles' cleanup and fails the test on error. PerTest builds such a
// function; the tests that migrate an empty database get one from it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"ConcurrentOpen", testConcurrentOpen},
		{"ConnectionCRUD", testConnectionCRUD},
		{"ConnectionRoundTrip", testConnectionRoundTrip},
		{"ConnectionNicknameConflict", testNicknameConflict},
		{"ConnectionUpdateRefused", testUpdateConnectionRefused},
		{"ConnectionConcurrentUpdate", testConcurrentUpdate},
		{"ConnectionUpdateNotify", testUpdateConnectionNotify},
		{"AuthRequest", testAuthRequest},
		{"AuthRequestSingleUse", testAuthRequestSingleUse},
		{"Lease", testLease},
		{"RenewLease", testRenewLease},
		{"LeaseExclusive", testLeaseExclusive},
		{"FlowVersions", testFlowVersions},
		{"FlowVersionsConcurrent", testFlowVersionsConcurrent},
		{"FlowNameCase", testFlowNameCase},
		{"Run", testRun},
		{"RunLeases", testRunLeases},
		{"RunList", testRunList},
		{"ListPaging", testListPaging},
		{"NamePaging", testNamePaging},
		{"DeviceNames", testDeviceNames},
		{"RunFinish", testRunFinish},
		{"RunConcurrentWrites", testRunConcurrentWrites},
		{"ItemRuns", testItemRuns},
		{"CancelFlowRun", testCancelFlowRun},
		{"CancelFlowRunAudited", testCancelFlowRunAudited},
		{"Purge", testPurge},
		{"PurgeKeepsFailureStreakStart", testPurgeKeepsFailureStreakStart},
		{"PurgeKeepsFailingSince", testPurgeKeepsFailingSince},
		{"PurgeEventsAndNotifications", testPurgeEventsAndNotifications},
		{"PurgeAudit", testPurgeAudit},
		{"DeletedNicknames", testDeletedNicknames},
		{"CreateFlowRunFrom", testCreateFlowRunFrom},
		{"ClaimRerunExactlyOnce", testClaimRerunExactlyOnce},
		{"ListRerunsWaitingOfAFlow", testListRerunsWaitingOfAFlow},
		{"Audit", testAudit},
		{"AuditConcurrentAppend", testAuditConcurrent},
		{"Flow", testFlow},
		{"FlowRun", testFlowRun},
		{"FailureStreak", testFailureStreak},
		{"ClaimFlowRun", testClaimFlowRun},
		{"ClaimFlowRunExactlyOnce", testClaimExactlyOnce},
		{"FlowStep", testFlowStep},
		{"FlowItem", testFlowItem},
		{"FlowItemConcurrentPut", testFlowItemConcurrent},
		{"PutFlowItems", testPutFlowItems},
		{"FinishFlowItem", testFinishFlowItem},
		{"FencedWrites", testFencedWrites},
		{"FlowEnabled", testFlowEnabled},
		{"DueFlows", testDueFlows},
		{"AdvanceSchedule", testAdvanceSchedule},
		{"AdvanceScheduleExactlyOnce", testAdvanceScheduleOnce},
		{"Notifications", testNotifications},
		{"NotificationThreads", testNotificationThreads},
		{"Setting", testSetting},
		{"APIToken", testAPIToken},
		{"TokenOffspring", testTokenOffspring},
		{"PersonRevokeTakesOffspring", testPersonRevokeTakesOffspring},
		{"TokenRevokeRacesOffspring", testTokenRevokeRacesOffspring},
		{"Session", testSession},
		{"SessionSharedAcrossHandles", testSessionShared},
		{"SessionFlashes", testSessionFlashes},
		{"PersonAccess", testPersonAccess},
		{"NothingOutlivesRevoke", testNothingOutlivesRevoke},
		{"LoginsFoldAlike", testLoginsFoldAlike},
		{"RevokeRacesCreation", testRevokeRacesCreation},
		{"PersonSubject", testPersonSubject},
		{"SignInLowersRole", testSignInLowersRole},
		{"DeleteBoundPersonAccess", testDeleteBoundPersonAccess},
		{"PersonBindingIssuer", testPersonBindingIssuer},
		{"SignInRequestSingleUse", testSignInRequestSingleUse},
		{"RateBudget", testRateBudget},
		{"RateBudgetExactUnderConcurrency", testRateBudgetExact},
		{"Events", testEvents},
		{"EventRunExactlyOnce", testEventRunExactlyOnce},
		{"MalformedEventsOnce", testMalformedEventsOnce},
		{"ReplaceEventSecret", testReplaceEventSecret},
		{"EventSource", testEventSource},
		{"PollStatus", testPollStatus},
		{"PollFence", testPollFence},
		{"PollFenceConcurrent", testPollFenceConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if needEmpty[tt.name] {
				emptyTests.Store(t, true)
				t.Cleanup(func() { emptyTests.Delete(t) })
			}
			tt.fn(t, open)
		})
	}
}

// needEmpty names the tests of Run that migrate an empty database
// themselves, rather than start from one with the current schema.
var needEmpty = map[string]bool{"ConcurrentOpen": true}

// emptyTests holds the tests Run runs that need an empty database.
var emptyTests sync.Map // *testing.T → true

// PerTest returns an open function for Run. create makes a database for a
// test and returns its address (a path, a DSN): an empty one when empty is
// true; otherwise it may hold the current schema already (and no
// records), as a copy of a migrated template does, which saves migrating
// in every test. connect opens a handle on an address, migrating the
// database if needed. create runs once per test, connect on every call.
func PerTest(create func(t *testing.T, empty bool) string, connect func(t *testing.T, addr string) store.Store) func(t *testing.T) store.Store {
	var mu sync.Mutex
	addrs := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		t.Helper()
		mu.Lock()
		addr, ok := addrs[t]
		if !ok {
			_, empty := emptyTests.Load(t)
			addr = create(t, empty)
			addrs[t] = addr
			t.Cleanup(func() {
				mu.Lock()
				delete(addrs, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		return connect(t, addr)
	}
}

// Opened is for open functions: it fails t if err is set, closes s when t
// ends, and returns s.
func Opened(t *testing.T, s store.Store, err error) store.Store {
	t.Helper()
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// base is a time with nanoseconds in a non-UTC zone: backends must keep
// the instant to the nanosecond.
var base = time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.FixedZone("CET", 3600))

func at(seconds int) time.Time { return base.Add(time.Duration(seconds) * time.Second) }

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v; want %v", what, err, target)
	}
}

// putFlow stores f and returns whether PutFlow added a version.
func putFlow(t *testing.T, s store.Store, f *store.Flow, what string) bool {
	t.Helper()
	added, err := s.PutFlow(t.Context(), f)
	noErr(t, err, what)
	return added
}

// event is the audit event of a FinishFlowRun or CancelFlowRun that
// stores e whatever the run.
func event(e *store.AuditEvent) func(*store.FlowRun) *store.AuditEvent {
	return func(*store.FlowRun) *store.AuditEvent { return e }
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// parallel runs fn(i) for i in [0, n) at once and waits for all.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// alternate returns s1 for even i and s2 for odd i, so that the goroutines
// of parallel spread over two handles, as over two server processes.
func alternate(i int, s1, s2 store.Store) store.Store {
	if i%2 == 1 {
		return s2
	}
	return s1
}

func testConcurrentOpen(t *testing.T, open func(t *testing.T) store.Store) {
	// The first handles on an empty database migrate it at the same time.
	handles := make([]store.Store, 4)
	parallel(len(handles), func(i int) { handles[i] = open(t) })
	if t.Failed() {
		return
	}
	for i, s := range handles {
		c := &store.Connection{ID: "c" + string(rune('0'+i)), Connector: "okta-devices", Nickname: "n" + string(rune('0'+i))}
		noErr(t, s.CreateConnection(t.Context(), c), "CreateConnection")
	}
	list, err := handles[0].ListConnections(t.Context())
	noErr(t, err, "ListConnections")
	if len(list) != len(handles) {
		t.Errorf("got %d connections; want %d", len(list), len(handles))
	}
}
