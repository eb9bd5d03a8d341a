//! Plays queued prompts into 20 ms frames on the real-time path.
//!
//! A fixed-capacity queue of shared clips: queuing, filling and stopping never allocate.

use std::sync::Arc;

use heapless::Deque;

/// Most prompts queued on one line at once.
pub const MAX_QUEUED: usize = 32;

#[derive(Debug, Clone)]
struct Queued {
    samples: Arc<[i16]>,
    barge_in: bool,
}

/// The prompt queue of one line.
#[derive(Debug, Default)]
pub struct Player {
    queue: Deque<Queued, MAX_QUEUED>,
    pos: usize,
}

/// The queue is full; the prompt was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prompt queue full ({MAX_QUEUED} prompts)")]
pub struct QueueFull;

impl Player {
    /// An empty player.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue a clip after those already queued.
    pub fn push(&mut self, samples: Arc<[i16]>, barge_in: bool) -> Result<(), QueueFull> {
        self.queue
            .push_back(Queued { samples, barge_in })
            .map_err(|_| QueueFull)
    }

    /// Whether anything is queued or playing.
    pub fn is_playing(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Whether the clip playing now may be cut short by the caller.
    pub fn barge_in_allowed(&self) -> bool {
        self.queue.front().is_some_and(|q| q.barge_in)
    }

    /// Drop everything queued.
    pub fn stop(&mut self) {
        self.queue.clear();
        self.pos = 0;
    }

    /// Fill `out` with the next samples (silence after the end). Returns true when the
    /// queue ran dry during this frame.
    pub fn fill(&mut self, out: &mut [i16]) -> bool {
        let was_playing = self.is_playing();
        let mut i = 0;
        while i < out.len() {
            let Some(front) = self.queue.front() else {
                break;
            };
            let left = &front.samples[self.pos.min(front.samples.len())..];
            let n = left.len().min(out.len() - i);
            out[i..i + n].copy_from_slice(&left[..n]);
            i += n;
            self.pos += n;
            if self.pos >= front.samples.len() {
                self.queue.pop_front();
                self.pos = 0;
            }
        }
        out[i..].fill(0);
        was_playing && !self.is_playing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_clips_back_to_back_then_silence() {
        let mut p = Player::new();
        p.push(Arc::from(vec![1i16; 150]), true).unwrap();
        p.push(Arc::from(vec![2i16; 20]), false).unwrap();
        let mut f = [9i16; 160];
        assert!(!p.fill(&mut f));
        assert_eq!(&f[..150], &[1; 150][..]);
        assert_eq!(&f[150..], &[2; 10][..]);
        assert!(!p.barge_in_allowed());
        assert!(p.fill(&mut f), "ran dry in this frame");
        assert_eq!(&f[..10], &[2; 10][..]);
        assert!(f[10..].iter().all(|&s| s == 0));
        assert!(!p.fill(&mut f), "reports running dry only once");
    }

    #[test]
    fn full_queue_is_an_error_and_stop_clears() {
        let mut p = Player::new();
        let clip: Arc<[i16]> = Arc::from(vec![0i16; 1]);
        for _ in 0..MAX_QUEUED {
            p.push(clip.clone(), true).unwrap();
        }
        assert_eq!(p.push(clip, true), Err(QueueFull));
        p.stop();
        assert!(!p.is_playing());
    }
}
