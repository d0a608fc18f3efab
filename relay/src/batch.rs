//! Requests to storage gathered into batches. Under load, each round trip to the
//! database and each commit is shared by every request waiting at that moment, instead of
//! one each; with one request waiting, a batch is that request alone and waits for
//! nothing. A request never waits for more than the batch in progress: whatever arrives
//! meanwhile goes in the next.

use tokio::sync::{mpsc, oneshot};

/// How large a batch may grow.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// The most requests in one batch.
    pub requests: usize,
    /// The most bytes one batch may carry; a request larger than this is a batch alone.
    pub bytes: usize,
}

type Waiting<Request, Answer> = (Request, oneshot::Sender<Answer>);

/// Hands requests to one task that runs them in batches, in the order they came.
pub struct Batcher<Request, Answer> {
    queue: mpsc::UnboundedSender<Waiting<Request, Answer>>,
}

impl<Request, Answer> Batcher<Request, Answer>
where
    Request: Send + 'static,
    Answer: Send + 'static,
{
    /// Starts the batching task on the current runtime. `run` blocks (it is called off the
    /// async threads) and returns one answer per request, in order.
    pub fn start(
        limits: BatchLimits,
        bytes_of: fn(&Request) -> usize,
        run: impl Fn(Vec<Request>) -> Vec<Answer> + Send + Sync + 'static,
    ) -> Self {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting<Request, Answer>>();
        let run = std::sync::Arc::new(run);
        tokio::spawn(async move {
            // One request taken but left for the next batch (it would pass the byte limit).
            let mut held: Option<Waiting<Request, Answer>> = None;
            loop {
                let first = match held.take() {
                    Some(first) => first,
                    None => match waiting.recv().await {
                        Some(first) => first,
                        None => return,
                    },
                };
                let mut bytes = bytes_of(&first.0);
                let mut batch = vec![first];
                while batch.len() < limits.requests && bytes < limits.bytes {
                    let Ok(next) = waiting.try_recv() else { break };
                    let size = bytes_of(&next.0);
                    if bytes + size > limits.bytes {
                        held = Some(next);
                        break;
                    }
                    bytes += size;
                    batch.push(next);
                }
                let (requests, answer_to): (Vec<Request>, Vec<oneshot::Sender<Answer>>) =
                    batch.into_iter().unzip();
                let run = run.clone();
                // A panic drops every sender: each request then answers that the relay failed.
                if let Ok(answers) = tokio::task::spawn_blocking(move || run(requests)).await {
                    for (answer, to) in answers.into_iter().zip(answer_to) {
                        let _ = to.send(answer);
                    }
                }
            }
        });
        Self { queue }
    }

    /// Runs `request` in the next batch; `None` if the batch failed as a whole (a panic).
    pub async fn call(&self, request: Request) -> Option<Answer> {
        let (answer_to, answer) = oneshot::channel();
        self.queue.send((request, answer_to)).ok()?;
        answer.await.ok()
    }
}
