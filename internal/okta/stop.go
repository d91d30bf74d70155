package okta

import (
	"context"
	"errors"
)

// ErrStopped is the error of a call that stopped waiting — for the rate
// limit, or before sending again after a 429 or a failure — because the
// stop of WithStopWaiting ended: the request was not sent (again), so the
// wait changed nothing in the org.
var ErrStopped = errors.New("okta: stopped waiting to send the request")

type stopKey struct{}

// WithStopWaiting returns a context whose calls stop waiting once stop
// ends, with ErrStopped, while a request already sent, or one that need
// not wait, goes on under ctx: a server that is shutting down lets the
// calls it has sent finish and sends none after a wait. The waits that
// end are those of SleepContext (the Limiters' waits) and a Client's
// waits between attempts.
func WithStopWaiting(ctx, stop context.Context) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// stopOf is the Done channel of ctx's stop (WithStopWaiting), nil when
// it has none.
func stopOf(ctx context.Context) <-chan struct{} {
	if stop, ok := ctx.Value(stopKey{}).(context.Context); ok {
		return stop.Done()
	}
	return nil
}

// stoppable is ctx ended also when its stop ends, with ErrStopped as its
// cause; end releases it.
func stoppable(ctx context.Context) (_ context.Context, end func()) {
	stop, ok := ctx.Value(stopKey{}).(context.Context)
	if !ok {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(stop, func() { cancel(ErrStopped) })
	return wctx, func() { unhook(); cancel(nil) }
}

// stoppedOr returns ErrStopped when the wait under wctx (see stoppable)
// ended because its stop did, and err otherwise.
func stoppedOr(wctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(wctx), ErrStopped) {
		return ErrStopped
	}
	return err
}
