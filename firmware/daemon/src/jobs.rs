//! The flow controller's jobs, run for real.
//!
//! The three blocking kinds — recognise an utterance, synthesise a prompt, store a recorded
//! message — are plain functions here, shared by the daemon and `yingda test-call`. In the
//! daemon, [`Workers`] runs them off the control loop: recognition and synthesis on a fixed
//! number of worker threads (the CPU-heavy part; a bounded pool so a burst of callers can
//! never starve the line threads of CPU), recognition ahead of synthesis (a caller who has
//! finished speaking is waiting on it), backend requests as tokio tasks, recordings on
//! tokio's blocking pool. Results come back on one channel to the control loop, which hands
//! them to [`crate::flowctl::FlowController::job_done`].

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use tokio::sync::mpsc;
use tracing::warn;
use yingda_speech::recognizer::{Lang, Recognizer, Request};
use yingda_store::CallId;
use yingda_tts::synth::Synthesizer;

use crate::flowctl::{tts_request, FlowOptions, Job, JobResult, Ticket};
use crate::fragments::{sentences, Fragments};
use crate::speech::SpeechService;

/// Recognise one utterance; an empty transcript is "nothing heard".
pub fn recognize(rec: Option<&dyn Recognizer>, audio: &[i16], request: Request) -> JobResult {
    match rec {
        Some(rec) => match rec.recognize(audio, request) {
            Ok(r) if r.text.trim().is_empty() => JobResult::Recognized(None),
            Ok(r) => JobResult::Recognized(Some(r)),
            Err(e) => JobResult::Failed(e.to_string()),
        },
        None => JobResult::Recognized(None),
    }
}

/// Synthesise `text`, handing each chunk of audio to `emit` as soon as it is ready, then an
/// empty chunk with `last: true` — or a [`JobResult::Failed`] instead, after which nothing
/// follows. A prompt in the cache is one chunk at once; Mandarin text with `fragments` is
/// read sentence by sentence, each assembled from fragments when it can be (at once) and
/// synthesised otherwise (see [`crate::fragments`]).
pub fn synthesize(
    synth: Option<&Synthesizer>,
    fragments: Option<&Fragments>,
    opts: &FlowOptions,
    text: &str,
    lang: Lang,
    voice: String,
    emit: &mut dyn FnMut(JobResult),
) {
    let Some(synth) = synth else {
        return emit(JobResult::Failed("no voice loaded".into()));
    };
    let request = |t: &str| {
        let mut req = tts_request(t, lang, opts);
        req.voice.clone_from(&voice);
        req
    };
    let chunk = |samples: Vec<i16>| JobResult::Audio {
        samples: samples.into(),
        last: false,
    };
    let whole = request(text);
    let by_sentence = match fragments {
        Some(f) if lang == Lang::Zh && !f.is_empty() => synth.cached_prompt(&whole).is_none(),
        _ => false,
    };
    let texts: Vec<&str> = if by_sentence {
        sentences(text)
    } else {
        vec![text]
    };
    for t in texts {
        if by_sentence {
            if let Some(a) = fragments.and_then(|f| f.assemble(t)) {
                emit(chunk(a));
                continue;
            }
        }
        let stream = match synth.stream(&request(t)) {
            Ok(s) => s,
            Err(e) => return emit(JobResult::Failed(e.to_string())),
        };
        for c in stream {
            match c {
                Ok(samples) => emit(chunk(samples)),
                Err(e) => return emit(JobResult::Failed(e.to_string())),
            }
        }
    }
    emit(JobResult::Audio {
        samples: Arc::from(Vec::new()),
        last: true,
    });
}

/// Store a recorded message as `dir/name` (8 kHz 16-bit WAV), written to a temporary file,
/// synced and renamed, so a crash leaves either the whole message or none; readable by the
/// daemon's user only.
pub fn save_recording(dir: &Path, name: &str, audio: &[i16]) -> JobResult {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.part"));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp)?;
        f.write_all(&yingda_dsp::wav::write(
            8000,
            yingda_dsp::wav::Encoding::Pcm16,
            audio,
        ))?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    match write() {
        Ok(()) => JobResult::Saved(path.display().to_string()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            JobResult::Failed(format!("{}: {e}", path.display()))
        }
    }
}

/// Queued CPU jobs, recognition first.
#[derive(Default)]
struct Queues {
    recognize: VecDeque<(Ticket, Job)>,
    synthesize: VecDeque<(Ticket, Job)>,
    closed: bool,
}

impl Queues {
    fn pop(&mut self) -> Option<(Ticket, Job)> {
        self.recognize
            .pop_front()
            .or_else(|| self.synthesize.pop_front())
    }
}

type Shared = Arc<(Mutex<Queues>, Condvar)>;

/// What the workers need besides the job.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// Recogniser and synthesiser, once loaded.
    pub speech: SpeechService,
    /// Voices.
    pub opts: FlowOptions,
    /// Backend client (`None`: backend nodes fail, and the flow takes their failure path).
    pub backend: Option<Arc<yingda_backend::Backend>>,
    /// Where recorded messages go.
    pub recordings: PathBuf,
    /// Mandarin fragments of the active flows (replaced by the prompt warmer).
    pub fragments: Arc<std::sync::RwLock<Arc<Fragments>>>,
}

/// Runs jobs in the daemon; results arrive on the receiver [`Workers::start`] returns.
pub struct Workers {
    shared: Shared,
    threads: Vec<std::thread::JoinHandle<()>>,
    ctx: WorkerContext,
    results: mpsc::UnboundedSender<(Ticket, JobResult)>,
    rt: tokio::runtime::Handle,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Queues> {
    s.0.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Workers {
    /// Start `threads` (at least 1) worker threads; backend requests run on `rt`.
    ///
    /// # Errors
    /// A thread could not be spawned.
    pub fn start(
        threads: usize,
        ctx: WorkerContext,
        rt: tokio::runtime::Handle,
    ) -> std::io::Result<(Self, mpsc::UnboundedReceiver<(Ticket, JobResult)>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared: Shared = Arc::default();
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            let ctx = ctx.clone();
            let tx = tx.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("speech-{i}"))
                    .spawn(move || worker(&shared, &ctx, &tx))?,
            );
        }
        Ok((
            Self {
                shared,
                threads: handles,
                ctx,
                results: tx,
                rt,
            },
            rx,
        ))
    }

    /// Run `job` for `ticket`.
    pub fn submit(&self, ticket: Ticket, job: Job) {
        match job {
            Job::Recognize { .. } => {
                lock(&self.shared).recognize.push_back((ticket, job));
                self.shared.1.notify_one();
            }
            Job::Synthesize { .. } => {
                lock(&self.shared).synthesize.push_back((ticket, job));
                self.shared.1.notify_one();
            }
            Job::Http(req) => {
                let backend = self.ctx.backend.clone();
                let tx = self.results.clone();
                self.rt.spawn(async move {
                    let outcome = match backend {
                        Some(b) => b.send(&req).await.map_err(|e| e.to_string()),
                        None => Err("no backend client".into()),
                    };
                    let _ = tx.send((ticket, JobResult::Http(outcome)));
                });
            }
            Job::SaveRecording { audio, name } => {
                let dir = self.ctx.recordings.clone();
                let tx = self.results.clone();
                self.rt.spawn_blocking(move || {
                    let _ = tx.send((ticket, save_recording(&dir, &name, &audio)));
                });
            }
        }
    }

    /// Drop the queued (not yet started) jobs of a call that has ended.
    pub fn cancel(&self, channel: u32, call: CallId) {
        let mut q = lock(&self.shared);
        let keep = |(t, _): &(Ticket, Job)| !(t.channel == channel && t.call == call);
        q.recognize.retain(keep);
        q.synthesize.retain(keep);
    }

    /// Stop the threads after the jobs they are on.
    pub fn shutdown(self) {
        {
            let mut q = lock(&self.shared);
            q.closed = true;
            q.recognize.clear();
            q.synthesize.clear();
        }
        self.shared.1.notify_all();
        for t in self.threads {
            if t.join().is_err() {
                warn!("a speech worker panicked");
            }
        }
    }
}

fn worker(shared: &Shared, ctx: &WorkerContext, tx: &mpsc::UnboundedSender<(Ticket, JobResult)>) {
    loop {
        let next = {
            let mut q = lock(shared);
            loop {
                if q.closed {
                    return;
                }
                if let Some(j) = q.pop() {
                    break j;
                }
                q = shared.1.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let (ticket, job) = next;
        // A panic in a model must cost one job, not the worker: the call gets a failure
        // (and takes its DTMF or recorded path) and the next job runs.
        let run = std::panic::AssertUnwindSafe(|| match job {
            Job::Recognize { audio, request } => {
                let rec = ctx.speech.recognizer();
                let _ = tx.send((ticket, recognize(rec.as_deref(), &audio, request)));
            }
            Job::Synthesize { text, lang, voice } => {
                let synth = ctx.speech.synthesizer();
                let fragments = ctx
                    .fragments
                    .read()
                    .map(|f| Arc::clone(&f))
                    .unwrap_or_default();
                synthesize(
                    synth.as_ref(),
                    Some(&fragments),
                    &ctx.opts,
                    &text,
                    lang,
                    voice,
                    &mut |r| {
                        let _ = tx.send((ticket, r));
                    },
                );
            }
            Job::Http(_) | Job::SaveRecording { .. } => {}
        });
        if std::panic::catch_unwind(run).is_err() {
            warn!(channel = ticket.channel, "speech job panicked");
            let _ = tx.send((ticket, JobResult::Failed("the speech engine failed".into())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_written_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let r = save_recording(&dir.path().join("rec"), "c-1-2.wav", &[7; 800]);
        let JobResult::Saved(path) = r else {
            panic!("{r:?}")
        };
        let w = yingda_dsp::wav::parse(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!((w.rate, w.samples.len()), (8000, 800));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("rec"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["c-1-2.wav"], "no temporary file left");
    }

    #[test]
    fn an_unwritable_directory_is_a_failure_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        match save_recording(&file, "m.wav", &[0; 10]) {
            JobResult::Failed(why) => assert!(why.contains("m.wav"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_a_voice_synthesis_fails_at_once() {
        let mut got = Vec::new();
        synthesize(
            None,
            None,
            &FlowOptions::default(),
            "你好",
            Lang::Zh,
            "zf_xiaoxiao".into(),
            &mut |r| got.push(format!("{r:?}")),
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("no voice loaded"), "{got:?}");
    }

    #[test]
    fn cancelled_calls_lose_their_queued_jobs_only() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ctx = WorkerContext {
            speech: SpeechService::start(&crate::speech::SpeechConfig {
                enabled: false,
                ..Default::default()
            }),
            opts: FlowOptions::default(),
            backend: None,
            recordings: PathBuf::from("/nonexistent"),
            fragments: Arc::default(),
        };
        let (w, _rx) = Workers::start(1, ctx, rt.handle().clone()).unwrap();
        // Hold the queue so the worker cannot take anything while we look.
        let t = |ch, call| Ticket {
            channel: ch,
            call: CallId::new(call),
            seq: 1,
        };
        let synth = || Job::Synthesize {
            text: "x".into(),
            lang: Lang::Zh,
            voice: "v".into(),
        };
        {
            let mut q = lock(&w.shared);
            q.synthesize.push_back((t(1, 1), synth()));
            q.synthesize.push_back((t(2, 2), synth()));
            q.synthesize.push_back((t(1, 1), synth()));
            drop(q);
            w.cancel(1, CallId::new(1));
            let q = lock(&w.shared);
            let left: Vec<u32> = q.synthesize.iter().map(|(t, _)| t.channel).collect();
            // The worker may already have taken channel 2's job.
            assert!(left.is_empty() || left == [2], "{left:?}");
        }
        w.shutdown();
    }
}
