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
use std::sync::Arc;
use std::thread::JoinHandle;

struct Job {
    credentials: Credentials,
    text: String,
    reply_to: Option<String>,
    answer: Sender<Result<Posted, PostError>>,
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

type Answers = (
    Sender<Result<Posted, PostError>>,
    Receiver<Result<Posted, PostError>>,
);

thread_local! {
    /// Each Sheep's own channel for its answers, made once: a channel a post would leave a
    /// freed allocation cached in each of ten thousand threads.
    static ANSWERS: Answers = crossbeam_channel::bounded(1);
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
        // The Sheep may have gone (its thread panicked); nobody is left to tell.
        let _ = job.answer.send(answer);
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
        let (answer, reply) = ANSWERS.with(Clone::clone);
        let job = Job {
            credentials: credentials.clone(),
            text: text.to_string(),
            reply_to: reply_to.map(str::to_string),
            answer,
        };
        let gone = || PostError::Network {
            message: "the flock's HTTP workers have stopped".to_string(),
        };
        self.jobs.send(job).map_err(|_| gone())?;
        reply.recv().map_err(|_| gone())?
    }
}
