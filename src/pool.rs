//! A few threads that make every HTTP request of the flock. Sheep hand each post to the pool
//! and wait for its answer, so a Sheep's own thread stays shallow (an HTTP request needs tens of
//! kilobytes of stack, which would stay resident in each of ten thousand threads), connections
//! stay few and are reused, and the flock's load on X is bounded by the pool's size.
//!
//! Shared state: the job channel. Dropping the last `Pool` handle ends the workers; `join`
//! waits for them.

use crate::client::{Client, PostError, Posted};
use crate::keys::Credentials;
use crate::sheep::Post;
use crate::stop::Stop;
use crossbeam_channel::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

struct Job {
    credentials: Credentials,
    text: String,
    reply_to: Option<String>,
    answer: Reply,
}

/// A job's way back to its Sheep. Dropped unanswered (a worker panicked on it), it answers
/// that the workers are gone, so no Sheep waits for ever.
struct Reply(Option<Arc<Mailbox>>);

impl Reply {
    fn send(mut self, answer: Result<Posted, PostError>) {
        if let Some(mailbox) = self.0.take() {
            mailbox.put(answer);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(mailbox) = self.0.take() {
            mailbox.put(Err(workers_gone()));
        }
    }
}

fn workers_gone() -> PostError {
    PostError::Network {
        message: "the flock's HTTP workers have stopped".to_string(),
    }
}

/// Where a worker leaves a Sheep's answer. A mutex and a condition variable rather than a
/// channel: waiting on it goes straight to the kernel, without a channel's spinning and its
/// deeper calls, whose stack pages would stay resident in each of ten thousand threads.
#[derive(Default)]
struct Mailbox {
    answer: Mutex<Option<Result<Posted, PostError>>>,
    arrived: Condvar,
}

impl Mailbox {
    fn put(&self, answer: Result<Posted, PostError>) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer);
        self.arrived.notify_one();
    }

    fn take(&self) -> Result<Posted, PostError> {
        let mut answer = self.answer.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(answer) = answer.take() {
                return answer;
            }
            answer = self
                .arrived
                .wait(answer)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Hands posts to the workers; cheap to clone, one per Sheep.
#[derive(Clone)]
pub struct Pool {
    jobs: Sender<Job>,
}

/// The workers, to join once every `Pool` handle is gone.
pub struct Workers {
    threads: Vec<JoinHandle<()>>,
}

thread_local! {
    /// Each Sheep's own mailbox for its answers, made once: one a post would leave a freed
    /// allocation cached in each of ten thousand threads.
    static MAILBOX: Arc<Mailbox> = Arc::default();
}

/// Workers' stacks: room for a TLS handshake many times over.
const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Starts `size` workers posting through `client`. After `stop`, queued posts are not sent.
pub fn start(client: Arc<Client>, size: usize, stop: &Stop) -> std::io::Result<(Pool, Workers)> {
    let (jobs, inbox) = crossbeam_channel::unbounded::<Job>();
    let threads = (0..size.max(1))
        .map(|i| {
            let client = Arc::clone(&client);
            let inbox = inbox.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("http {i}"))
                .stack_size(WORKER_STACK)
                .spawn(move || work(&client, &inbox, &stop))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok((Pool { jobs }, Workers { threads }))
}

fn work(client: &Client, inbox: &Receiver<Job>, stop: &Stop) {
    // Ends when every Pool handle is dropped and the queue is empty.
    for job in inbox.iter() {
        // A post already sent finishes; one still queued when the flock stops is not sent.
        let answer = if stop.is_stopped() {
            Err(PostError::Cancelled)
        } else {
            client.post(&job.credentials, &job.text, job.reply_to.as_deref())
        };
        // The Sheep may have gone (its thread panicked): then nobody reads it.
        job.answer.send(answer);
    }
}

impl Workers {
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

impl Post for Pool {
    fn post(
        &self,
        credentials: &Credentials,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Posted, PostError> {
        let mailbox = MAILBOX.with(Arc::clone);
        let job = Job {
            credentials: credentials.clone(),
            text: text.to_string(),
            reply_to: reply_to.map(str::to_string),
            answer: Reply(Some(Arc::clone(&mailbox))),
        };
        // A job the queue refuses is dropped here, and its reply says why.
        let _ = self.jobs.send(job);
        mailbox.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reaches_the_waiting_sheep() {
        let mailbox = Arc::new(Mailbox::default());
        let reply = Reply(Some(Arc::clone(&mailbox)));
        let worker = std::thread::spawn(move || reply.send(Err(PostError::Cancelled)));
        assert!(matches!(mailbox.take(), Err(PostError::Cancelled)));
        worker.join().unwrap();
    }

    #[test]
    fn a_job_dropped_unanswered_says_the_workers_are_gone() {
        let mailbox = Arc::new(Mailbox::default());
        let reply = Reply(Some(Arc::clone(&mailbox)));
        std::thread::spawn(move || drop(reply)).join().unwrap();
        match mailbox.take() {
            Err(PostError::Network { message }) => assert!(message.contains("workers")),
            other => panic!("expected the workers gone, got {other:?}"),
        }
    }
}
