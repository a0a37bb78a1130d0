//! Streaming calls (`ListResource`, `InvokeAction`): a handler that pushes events while it
//! runs, seen by the gRPC layer as one stream of events.
//!
//! The handler is not spawned: the stream owns its future and polls it, so the handler only
//! runs while Terraform reads, a slow reader slows the handler down (the channel is bounded),
//! and dropping the stream (Terraform went away, or the engine decided it has had enough)
//! drops the handler at its next `.await`.

use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A stream of events of one call, ready for the gRPC layer.
pub type Events<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;

/// How many pushed events may wait for Terraform before a push waits: enough to overlap one
/// API page with Terraform's reading, small enough that a handler never runs far ahead.
pub(crate) const BUFFER: usize = 8;

/// A running handler with the channel it pushes to: yields each pushed event (through
/// `wrap`) as it arrives, then, once the handler has returned, whatever is still buffered
/// and the handler's final events.
pub(crate) struct Driven<C, T> {
    rx: mpsc::Receiver<C>,
    wrap: fn(C) -> T,
    run: Option<Pin<Box<dyn Future<Output = Vec<T>> + Send>>>,
    tail: std::vec::IntoIter<T>,
}

impl<C, T> Driven<C, T> {
    /// `run` is the handler, already holding the sending half of `rx`.
    pub(crate) fn new(
        rx: mpsc::Receiver<C>,
        wrap: fn(C) -> T,
        run: impl Future<Output = Vec<T>> + Send + 'static,
    ) -> Self {
        Driven {
            rx,
            wrap,
            run: Some(Box::pin(run)),
            tail: Vec::new().into_iter(),
        }
    }
}

// Nothing is pin-projected: the handler's future is boxed on its own.
impl<C, T> Unpin for Driven<C, T> {}

impl<C, T> Stream for Driven<C, T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        // Pushed events first, so they reach Terraform in the order they were pushed.
        if let Poll::Ready(Some(c)) = this.rx.poll_recv(cx) {
            return Poll::Ready(Some((this.wrap)(c)));
        }
        if let Some(run) = &mut this.run {
            match run.as_mut().poll(cx) {
                Poll::Ready(tail) => {
                    this.run = None;
                    this.tail = tail.into_iter();
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        // The handler has returned: drain without waiting (a sender it leaked must not keep
        // the stream open), then its final events.
        if let Ok(c) = this.rx.try_recv() {
            return Poll::Ready(Some((this.wrap)(c)));
        }
        Poll::Ready(this.tail.next())
    }
}

/// Ends a stream right after the first item for which `last` says so, without polling the
/// inner stream again: the handler inside is dropped instead of being asked for more.
pub(crate) struct Until<S, F> {
    inner: Option<S>,
    last: F,
}

impl<S, F> Until<S, F> {
    pub(crate) fn new(inner: S, last: F) -> Self {
        Until {
            inner: Some(inner),
            last,
        }
    }
}

impl<S: Stream + Unpin, F: FnMut(&S::Item) -> bool + Unpin> Stream for Until<S, F> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        let Some(inner) = &mut this.inner else {
            return Poll::Ready(None);
        };
        let next = Pin::new(inner).poll_next(cx);
        match &next {
            Poll::Ready(Some(item)) if (this.last)(item) => this.inner = None,
            Poll::Ready(None) => this.inner = None,
            _ => {}
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn pushed_events_then_final_events_in_order() {
        let (tx, rx) = mpsc::channel::<u32>(1);
        let run = async move {
            for i in 0..5 {
                let _ = tx.send(i).await;
            }
            vec![100]
        };
        let got: Vec<u32> = Driven::new(rx, |x| x, run).collect().await;
        assert_eq!(got, vec![0, 1, 2, 3, 4, 100]);
    }

    #[tokio::test]
    async fn until_drops_the_handler_after_the_last_item() {
        let (tx, rx) = mpsc::channel::<u32>(1);
        let polled = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = polled.clone();
        let run = async move {
            for i in 0.. {
                seen.store(i, std::sync::atomic::Ordering::SeqCst);
                if tx.send(i).await.is_err() {
                    break;
                }
            }
            vec![]
        };
        let got: Vec<u32> = Until::new(Driven::new(rx, |x| x, run), |x: &u32| *x == 2)
            .collect()
            .await;
        assert_eq!(got, vec![0, 1, 2]);
        // one item may wait in the channel, but the handler was not driven further
        assert!(polled.load(std::sync::atomic::Ordering::SeqCst) <= 4);
    }

    #[tokio::test]
    async fn a_leaked_sender_does_not_keep_the_stream_open() {
        let (tx, rx) = mpsc::channel::<u32>(4);
        let keep = tx.clone();
        let run = async move {
            let _ = tx.send(1).await;
            vec![2]
        };
        let got: Vec<u32> = Driven::new(rx, |x| x, run).collect().await;
        assert_eq!(got, vec![1, 2]);
        drop(keep);
    }
}
