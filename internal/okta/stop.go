package okta

import (
	"context"
	"errors"
)

// ErrStopped is the error of a call that stopped waiting — for the rate
// limit, or before sending again after a 429 or a failure — because the
// stop of WithStopWaiting ended: the request was not sent (again), so the
// wait changed nothing in the org. The error is a *StoppedError, which
// says why the stop ended.
var ErrStopped = errors.New("okta: stopped waiting to send the request")

// StoppedError is ErrStopped with the cause of the stop's end
// (context.Cause of the stop given to WithStopWaiting). Attempts counts
// the times the call was sent before the wait the stop ended (0: never);
// LastStatus is the status of the last attempt's answer, 0 when it got
// none (a network error, no answer in time); Method is the call's.
type StoppedError struct {
	Cause      error
	Attempts   int
	LastStatus int
	Method     string
}

func (e *StoppedError) Error() string {
	return ErrStopped.Error() + ": " + e.Cause.Error()
}

// Is makes errors.Is(err, ErrStopped) true.
func (e *StoppedError) Is(target error) bool { return target == ErrStopped }

type stopKey struct{}

// WithStopWaiting returns a context whose calls stop waiting once stop
// ends, with a *StoppedError, while a request already sent, or one that
// need not wait, goes on under ctx: a flow run that is stopping (asked
// to, or its server shutting down) lets the calls it has sent finish and
// sends none after a wait. The waits that end are those of SleepContext
// (the Limiters' waits) and a Client's waits between attempts.
func WithStopWaiting(ctx, stop context.Context) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// stopOf is ctx's stop (WithStopWaiting), nil when it has none.
func stopOf(ctx context.Context) context.Context {
	stop, _ := ctx.Value(stopKey{}).(context.Context)
	return stop
}

// stopDone is the Done channel of ctx's stop, nil when it has none.
func stopDone(ctx context.Context) <-chan struct{} {
	if stop := stopOf(ctx); stop != nil {
		return stop.Done()
	}
	return nil
}

// stoppedErr is the error of a wait under ctx whose stop ended.
func stoppedErr(ctx context.Context) error {
	return &StoppedError{Cause: context.Cause(stopOf(ctx))}
}

// stoppable is ctx ended also when its stop ends, with a *StoppedError as
// its cause; end releases it.
func stoppable(ctx context.Context) (_ context.Context, end func()) {
	stop := stopOf(ctx)
	if stop == nil {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(stop, func() { cancel(stoppedErr(ctx)) })
	return wctx, func() { unhook(); cancel(nil) }
}

// afterAttempts is err with the attempts made before it when it is a
// *StoppedError (see StoppedError), and err otherwise.
func afterAttempts(err error, method string, attempts int, last *response) error {
	se := (*StoppedError)(nil)
	if attempts == 0 || !errors.As(err, &se) {
		return err
	}
	out := &StoppedError{Cause: se.Cause, Attempts: attempts, Method: method}
	if last != nil {
		out.LastStatus = last.status
	}
	return out
}

// stoppedOr returns the *StoppedError when the wait under wctx (see
// stoppable) ended because its stop did, and err otherwise.
func stoppedOr(wctx context.Context, err error) error {
	if cause := context.Cause(wctx); err != nil && errors.Is(cause, ErrStopped) {
		return cause
	}
	return err
}
