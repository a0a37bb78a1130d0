//! Write coalescing for a served connection: the responses one pass of the runtime produces
//! leave in one write.
//!
//! Why: h2 flushes its transport once per response body, so every gRPC response was its own
//! TLS record and its own `writev`, and a write is where a wake-up of Terraform's reader is
//! paid (issue 11: the 1,000-instance plan launch made 4,647 writes for 4,000 RPCs; with this,
//! 1,515, and 2 % less provider CPU in an interleaved A/B). Terraform keeps up to
//! `-parallelism` calls in flight, so several responses are usually ready together.
//!
//! How: writes are copied into a buffer and always accepted. A flush is put off: it wakes the
//! connection task and reports success, so h2 goes on queuing the other responses that are
//! ready, and the tasks already scheduled (handlers finishing other calls) run before the
//! connection task is polled again. The put-off flush is done for real at the first flush of
//! that new pass, which h2 marks by reading (each pass of its connection reads until the
//! socket has nothing). A buffer past [`HIGH_WATER`], [`MAX_DEFERRALS`] put-off flushes in a
//! row, and a shutdown are written at once.
//!
//! Nothing waits longer than the tasks ready at the time take to run, and the wake makes the
//! connection task come back even when the peer sends nothing more.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Buffered bytes past which a flush is not put off (and writes drain first).
pub(crate) const HIGH_WATER: usize = 64 * 1024;

/// Flushes put off in a row before one is done regardless: a bound on how long bytes can wait
/// should a caller ever flush repeatedly without reading in between. h2 flushes once per
/// response body, and Terraform has at most `-parallelism` calls in flight.
pub(crate) const MAX_DEFERRALS: u32 = 16;

/// An `AsyncRead + AsyncWrite` whose flushes are coalesced (see the module docs).
#[derive(Debug)]
pub(crate) struct Coalesce<T> {
    io: T,
    /// Bytes accepted from the writer; `buf[sent..]` is not yet handed to `io`.
    buf: Vec<u8>,
    sent: usize,
    /// `poll_read` calls so far; a new value means the connection task is in a new pass.
    reads: u64,
    /// The read count when a flush was put off (`None`: none is pending).
    deferred_at: Option<u64>,
    /// Flushes put off since the last real one.
    deferrals: u32,
    /// A real flush has started and waits for the transport: go on with it.
    draining: bool,
}

impl<T> Coalesce<T> {
    pub(crate) fn new(io: T) -> Self {
        Self {
            io,
            buf: Vec::new(),
            sent: 0,
            reads: 0,
            deferred_at: None,
            deferrals: 0,
            draining: false,
        }
    }

    fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }
}

impl<T: AsyncWrite + Unpin> Coalesce<T> {
    /// Hands every buffered byte to `io`, then flushes it.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.deferred_at = None;
        self.deferrals = 0;
        self.draining = true;
        while self.sent < self.buf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.buf.clear();
        self.sent = 0;
        self.draining = false;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Makes room before accepting more: drains when the buffer is past the high-water mark.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending() >= HIGH_WATER {
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalesce<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.reads = self.reads.wrapping_add(1);
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesce<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_room(cx))?;
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_room(cx))?;
        let mut n = 0;
        for b in bufs {
            self.buf.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    /// Vectored writes cost one copy each, as plain ones do.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pending() == 0 {
            this.deferred_at = None;
            return Pin::new(&mut this.io).poll_flush(cx);
        }
        let new_pass = this.deferred_at.is_some_and(|at| at != this.reads);
        if this.pending() < HIGH_WATER
            && !this.draining
            && !new_pass
            && this.deferrals < MAX_DEFERRALS
        {
            // Put off: come back after the tasks that are ready now (waking a running task
            // only marks it to be polled once more).
            this.deferred_at.get_or_insert(this.reads);
            this.deferrals += 1;
            cx.waker().wake_by_ref();
            return Poll::Ready(Ok(()));
        }
        this.poll_drain(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// An in-memory transport counting writes and flushes; `block` makes writes pend.
    #[derive(Default)]
    struct Sink {
        data: Vec<u8>,
        writes: usize,
        flushes: usize,
        block: bool,
    }

    impl AsyncRead for Sink {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Sink {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.block {
                return Poll::Pending;
            }
            self.writes += 1;
            self.data.extend_from_slice(b);
            Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[derive(Default)]
    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn write(c: &mut Coalesce<Sink>, cx: &mut Context<'_>, b: &[u8]) {
        assert!(matches!(Pin::new(&mut *c).poll_write(cx, b), Poll::Ready(Ok(n)) if n == b.len()));
    }
    fn flush(c: &mut Coalesce<Sink>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *c).poll_flush(cx)
    }
    fn read(c: &mut Coalesce<Sink>, cx: &mut Context<'_>) {
        let mut space = [0u8; 8];
        let mut rb = ReadBuf::new(&mut space);
        assert!(Pin::new(&mut *c).poll_read(cx, &mut rb).is_pending());
    }

    #[test]
    fn responses_of_one_pass_leave_in_one_write_on_the_next_pass() {
        let wakes = Arc::new(CountWakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut c = Coalesce::new(Sink::default());

        // pass 1: h2 reads until the socket is empty, then writes three responses, flushing
        // after each
        read(&mut c, &mut cx);
        for r in [&b"one"[..], b"two", b"three"] {
            write(&mut c, &mut cx, r);
            assert!(flush(&mut c, &mut cx).is_ready());
        }
        assert_eq!(c.io.writes, 0, "nothing written during the pass");
        assert!(
            wakes.0.load(Ordering::SeqCst) >= 1,
            "the task is woken to come back"
        );

        // pass 2 (the wake): a read marks it, the flush writes everything at once
        read(&mut c, &mut cx);
        assert!(flush(&mut c, &mut cx).is_ready());
        assert_eq!(c.io.writes, 1);
        assert_eq!(c.io.data, b"onetwothree");
        assert!(c.io.flushes >= 1);
        assert_eq!(c.pending(), 0);

        // an empty flush passes straight through and wakes nobody
        let woken = wakes.0.load(Ordering::SeqCst);
        assert!(flush(&mut c, &mut cx).is_ready());
        assert_eq!(wakes.0.load(Ordering::SeqCst), woken);
    }

    #[test]
    fn flushes_without_reads_in_between_are_put_off_a_bounded_number_of_times() {
        let wakes = Arc::new(CountWakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut c = Coalesce::new(Sink::default());
        write(&mut c, &mut cx, b"stuck?");
        for _ in 0..MAX_DEFERRALS {
            assert!(flush(&mut c, &mut cx).is_ready());
            assert_eq!(c.io.writes, 0);
        }
        assert!(flush(&mut c, &mut cx).is_ready());
        assert_eq!(
            c.io.data, b"stuck?",
            "written after MAX_DEFERRALS put-off flushes"
        );
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            MAX_DEFERRALS as usize,
            "every put-off flush woke the task"
        );
    }

    #[test]
    fn a_large_buffer_and_a_shutdown_are_written_at_once() {
        let wakes = Arc::new(CountWakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut c = Coalesce::new(Sink::default());
        write(&mut c, &mut cx, &vec![7u8; HIGH_WATER]);
        assert!(flush(&mut c, &mut cx).is_ready());
        assert_eq!(
            c.io.data.len(),
            HIGH_WATER,
            "past the high-water mark: no deferral"
        );
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);

        write(&mut c, &mut cx, b"bye");
        assert!(Pin::new(&mut c).poll_shutdown(&mut cx).is_ready());
        assert_eq!(&c.io.data[HIGH_WATER..], b"bye");
    }

    #[test]
    fn a_blocked_transport_keeps_the_bytes_and_pends() {
        let wakes = Arc::new(CountWakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut c = Coalesce::new(Sink {
            block: true,
            ..Sink::default()
        });
        write(&mut c, &mut cx, b"abc");
        assert!(flush(&mut c, &mut cx).is_ready(), "first flush is put off");
        read(&mut c, &mut cx);
        assert!(
            flush(&mut c, &mut cx).is_pending(),
            "the real flush waits for the socket"
        );
        assert_eq!(c.pending(), 3, "nothing lost");
        c.io.block = false;
        assert!(flush(&mut c, &mut cx).is_ready());
        assert_eq!(c.io.data, b"abc");
    }
}
