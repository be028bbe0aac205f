//! One execution's tape: it records what the host answers the guest (tool
//! calls by their place in call order, clock readings) and, when the
//! execution is a replay, answers from a journal until the code reaches
//! the call that was waiting, checking each call against the record.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde_json::Value;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::journal::{Answer, Journal, PendingCall, RecordedCall};
use crate::approval::Decision;
use crate::digest::sha256_hex;
use crate::tool::ToolError;

/// What the host does with a tool call of a recorded execution.
#[derive(Debug)]
pub(crate) enum Step {
    /// Replayed: answer this, as the journal recorded it.
    Replayed(Result<String, ToolError>),
    /// The call that was waiting for a human: it goes live with this
    /// decision (`None`: ask again).
    Decided(Option<Decision>),
    /// Not in the journal: make it.
    Live,
    /// The code did not make the call the journal recorded: the replay
    /// must end here, before anything goes live.
    Diverged,
}

/// The per-execution recorder; clones share one tape.
#[derive(Clone)]
pub(crate) struct Recorder(Arc<Mutex<Tape>>);

struct Tape {
    seed: [u8; 32],
    /// Calls claimed so far (a live tape keeps no slot for them).
    claimed: u32,
    /// Instances given randomness so far (the execution's, then each
    /// component skill's it runs), so that none draws another's bytes.
    instances: u32,
    /// Whether answers are kept: only an execution that may pause needs
    /// them (its runtime has approval rules).
    journaling: bool,
    /// Bytes of answers kept, and whether they passed [`JOURNAL_CAP`].
    bytes: usize,
    overflowed: bool,
    calls: Vec<Option<RecordedCall>>,
    wall: Vec<u64>,
    monotonic: Vec<u64>,
    pending: Option<PendingCall>,
    diverged: Option<String>,
    /// Where the execution's monotonic clock starts: its own start, so
    /// that a reading tells the guest nothing of the host (how long its
    /// process has run).
    origin: Instant,
    /// Why the resume lost its hold on the stored execution when the code
    /// reached the waiting call (which then did not go live).
    lost: Option<String>,
    replay: Option<Replay>,
}

/// The journal a replay answers from.
struct Replay {
    calls: Vec<Option<RecordedCall>>,
    wall: Vec<u64>,
    monotonic: Vec<u64>,
    pending: PendingCall,
    decision: Option<Decision>,
    started: Instant,
    /// How long the replay took, once the code went past the journal.
    took: Option<Duration>,
    /// Added to live monotonic readings after the replay, so that the
    /// guest's clock never runs backwards on a new process.
    monotonic_shift: Option<u64>,
    /// Whether the code reached the pending call, with the recorded
    /// arguments: from then on the human's decision is spent.
    reached: bool,
    /// The resume was given up before the code reached the pending call
    /// (its caller stopped waiting): the call must not go live now.
    abandoned: bool,
}

impl Replay {
    /// Whether call `index` is the one the journal recorded at that place,
    /// or the pending call as it was waiting; the error says how it differs.
    fn check(&self, index: u32, server: &str, tool: &str, arguments: &str) -> Result<(), String> {
        let (what, expected) = match self.calls.get(index as usize).and_then(Option::as_ref) {
            Some(recorded) => ("recorded as", (&recorded.server, &recorded.tool, &recorded.arguments_sha256)),
            None if index == self.pending.index => {
                let pending = &self.pending;
                ("waiting as", (&pending.server, &pending.tool, &pending.arguments_sha256))
            }
            None => return Ok(()),
        };
        let (s, t, digest) = expected;
        let n = index + 1;
        if (s.as_str(), t.as_str()) != (server, tool) {
            return Err(format!("call {n} was {what} {s}.{t}; the code now calls {server}.{tool}"));
        }
        if *digest != sha256_hex(arguments) {
            return Err(format!("call {n} was {what} {s}.{t} with other arguments than the code now passes"));
        }
        Ok(())
    }
}

/// The most answer bytes one execution's journal keeps: past it the
/// execution can no longer pause (a gated call is then declined), and the
/// host stops holding a copy of what it answers.
pub(crate) const JOURNAL_CAP: usize = 64 << 20;

impl Default for Recorder {
    /// A journaling recorder with a fresh seed.
    fn default() -> Self {
        Recorder::new(rand::random())
    }
}

/// The recorded part of a tape, for a journal.
pub(crate) struct Recorded {
    pub calls: Vec<Option<RecordedCall>>,
    pub wall: Vec<u64>,
    pub monotonic: Vec<u64>,
    pub pending: PendingCall,
}

impl Recorder {
    /// A recorder that keeps no journal (the execution cannot pause): the
    /// clocks and randomness are live, nothing is copied.
    pub(crate) fn live() -> Self {
        let recorder = Recorder::default();
        recorder.tape().journaling = false;
        recorder
    }

    fn new(seed: [u8; 32]) -> Self {
        Recorder(Arc::new(Mutex::new(Tape {
            seed,
            claimed: 0,
            instances: 0,
            journaling: true,
            bytes: 0,
            overflowed: false,
            calls: Vec::new(),
            wall: Vec::new(),
            monotonic: Vec::new(),
            pending: None,
            diverged: None,
            origin: Instant::now(),
            lost: None,
            replay: None,
        })))
    }

    /// A recorder that replays `journal`, then goes live with `decision`
    /// at its pending call.
    pub(crate) fn replaying(journal: &Journal, seed: [u8; 32], decision: Option<Decision>) -> Self {
        let recorder = Recorder::new(seed);
        recorder.tape().replay = Some(Replay {
            calls: journal.calls.clone(),
            wall: journal.wall_clock_ns.clone(),
            monotonic: journal.monotonic_clock_ns.clone(),
            pending: journal.pending.clone(),
            decision,
            started: Instant::now(),
            took: None,
            monotonic_shift: None,
            reached: false,
            abandoned: false,
        });
        recorder
    }

    fn tape(&self) -> MutexGuard<'_, Tape> {
        // Every update leaves the tape whole: a panic elsewhere cannot
        // leave it half written.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The seed of the execution's randomness.
    pub(crate) fn seed(&self) -> [u8; 32] {
        self.tape().seed
    }

    /// The generators of the next instance's secure and insecure
    /// randomness, and its insecure seed, from the seed and the instance's
    /// place: a replay, creating its instances in the same order, draws the
    /// same bytes, and no two instances of an execution draw the same.
    pub(crate) fn random(&self) -> (StdRng, StdRng, u128) {
        let (seed, instance) = {
            let mut tape = self.tape();
            tape.instances += 1;
            (tape.seed, tape.instances)
        };
        let derive = |label: u8| {
            let mut bytes = seed;
            bytes[0] ^= label;
            for (byte, count) in bytes[1..5].iter_mut().zip(instance.to_le_bytes()) {
                *byte ^= count;
            }
            StdRng::from_seed(bytes)
        };
        let mut half = [0u8; 16];
        half.copy_from_slice(&seed[16..]);
        let insecure_seed = u128::from_le_bytes(half) ^ u128::from(instance);
        (derive(1), derive(2), insecure_seed)
    }

    /// The next call's place in call order. Claimed when the guest makes
    /// the call, before it runs: the calls of a batch are numbered in the
    /// batch's order, however they finish.
    pub(crate) fn claim(&self) -> u32 {
        let mut tape = self.tape();
        if tape.journaling {
            tape.calls.push(None);
        }
        tape.claimed += 1;
        tape.claimed - 1
    }

    /// What to do with call `index`.
    pub(crate) fn step(&self, index: u32, server: &str, tool: &str, arguments: &str) -> Step {
        let mut tape = self.tape();
        let tape = &mut *tape;
        let Some(replay) = &mut tape.replay else { return Step::Live };
        if tape.diverged.is_some() {
            return Step::Diverged;
        }
        if let Err(detail) = replay.check(index, server, tool, arguments) {
            tape.diverged = Some(detail);
            return Step::Diverged;
        }
        if let Some(recorded) = replay.calls.get(index as usize).and_then(Option::as_ref) {
            tape.calls[index as usize] = Some(recorded.clone());
            return Step::Replayed(recorded.answer.to_outcome());
        }
        if replay.took.is_none() {
            replay.took = Some(replay.started.elapsed());
        }
        if index == replay.pending.index {
            // The calls recorded after the pending one are its batch: a
            // replay that makes it without them has taken another path.
            let last_recorded = replay.calls.iter().rposition(Option::is_some).unwrap_or(0);
            if last_recorded > index as usize && tape.claimed as usize <= last_recorded {
                tape.diverged = Some(format!(
                    "call {} was waiting in a batch of calls up to call {}; the code now makes fewer",
                    index + 1,
                    last_recorded + 1
                ));
                return Step::Diverged;
            }
            if replay.abandoned {
                tape.diverged = Some("the resume was given up before this call".into());
                return Step::Diverged;
            }
            replay.reached = true;
            return Step::Decided(replay.decision.take());
        }
        Step::Live
    }

    /// Checks the calls of a batch against the journal before any of them
    /// runs: a batch may hold the pending call and recorded calls after
    /// it, and the pending call must not go live when one of those differs.
    pub(crate) fn check_batch<'a>(&self, calls: impl IntoIterator<Item = (u32, &'a str, &'a str, &'a str)>) {
        let mut tape = self.tape();
        let tape = &mut *tape;
        let Some(replay) = &tape.replay else { return };
        if tape.diverged.is_some() {
            return;
        }
        for (index, server, tool, arguments) in calls {
            if let Err(detail) = replay.check(index, server, tool, arguments) {
                tape.diverged = Some(detail);
                return;
            }
        }
    }

    /// Records the answer to call `index`.
    pub(crate) fn record(
        &self,
        index: u32,
        server: &str,
        tool: &str,
        arguments: &str,
        outcome: &Result<String, ToolError>,
    ) {
        let size = match outcome {
            Ok(json) => json.len(),
            Err(error) => error.message().len(),
        };
        {
            let mut tape = self.tape();
            if !tape.journaling || tape.overflowed {
                return;
            }
            if !tape.keep(size) {
                return;
            }
        }
        // Hashed and copied outside the lock: calls of a batch record at once.
        let call = RecordedCall {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments_sha256: sha256_hex(arguments),
            answer: Answer::of(outcome),
        };
        if let Some(slot) = self.tape().calls.get_mut(index as usize) {
            *slot = Some(call);
        }
    }

    /// Call `index` waits for a human: the execution pauses (at the first
    /// such call, when several of a batch wait). An error says why it
    /// cannot.
    pub(crate) fn pause(
        &self,
        index: u32,
        server: &str,
        tool: &str,
        arguments: &str,
        rule: String,
    ) -> Result<(), String> {
        let mut tape = self.tape();
        if !tape.journaling {
            return Err("this execution keeps no journal".into());
        }
        if tape.overflowed {
            return Err(format!("its journal passed {} MiB of tool results and clock readings", JOURNAL_CAP >> 20));
        }
        if tape.pending.is_none() {
            tape.pending = Some(PendingCall {
                index,
                server: server.to_string(),
                tool: tool.to_string(),
                arguments_sha256: sha256_hex(arguments),
                arguments: serde_json::from_str(arguments).unwrap_or(Value::Null),
                rule,
            });
        }
        Ok(())
    }

    /// Whether a call paused the execution.
    pub(crate) fn paused(&self) -> bool {
        self.tape().pending.is_some()
    }

    /// Why the replay diverged, if it did.
    pub(crate) fn diverged(&self) -> Option<String> {
        self.tape().diverged.clone()
    }

    /// Ends the replay at the waiting call, which must not go live: the
    /// resume lost its hold on the stored execution (`detail` says how).
    pub(crate) fn lose(&self, detail: String) {
        self.tape().lost = Some(detail);
    }

    /// Why the resume lost its hold on the execution, if it did.
    pub(crate) fn lost(&self) -> Option<String> {
        self.tape().lost.clone()
    }

    /// Gives the replay up unless its code already reached the pending
    /// call: from now on that call is refused. `true` when given up (the
    /// execution may be put back), in one step with the check, so that a
    /// replay still running elsewhere cannot reach the call in between.
    pub(crate) fn abandon(&self) -> bool {
        let mut tape = self.tape();
        match tape.replay.as_mut() {
            Some(replay) if !replay.reached => {
                replay.abandoned = true;
                true
            }
            _ => false,
        }
    }

    /// For a replay that ended without reaching the pending call, why: the
    /// code took another path, and nothing went live.
    pub(crate) fn unfinished(&self) -> Option<String> {
        let tape = self.tape();
        let replay = tape.replay.as_ref().filter(|replay| !replay.reached)?;
        let pending = &replay.pending;
        Some(format!(
            "the code ended before call {} ({}.{}), which was waiting for the decision",
            pending.index + 1,
            pending.server,
            pending.tool
        ))
    }

    /// Time spent replaying (not execution time: the original run was
    /// already counted).
    pub(crate) fn replay_time(&self) -> Duration {
        match &self.tape().replay {
            Some(replay) => replay.took.unwrap_or_else(|| replay.started.elapsed()),
            None => Duration::ZERO,
        }
    }

    /// What was recorded, for the journal of a paused execution.
    pub(crate) fn recorded(&self) -> Option<Recorded> {
        let mut tape = self.tape();
        let pending = tape.pending.clone()?;
        Some(Recorded {
            calls: std::mem::take(&mut tape.calls),
            wall: std::mem::take(&mut tape.wall),
            monotonic: std::mem::take(&mut tape.monotonic),
            pending,
        })
    }

    /// The wall clock the guest reads: replayed, then live.
    pub(crate) fn wall_clock(&self) -> JournaledWallClock {
        JournaledWallClock(self.clone())
    }

    /// The monotonic clock the guest reads: replayed, then live.
    pub(crate) fn monotonic_clock(&self) -> JournaledMonotonicClock {
        JournaledMonotonicClock(self.clone())
    }

    fn read_wall(&self) -> u64 {
        let mut tape = self.tape();
        if !tape.journaling || tape.overflowed {
            return wall_now();
        }
        let position = tape.wall.len();
        let replayed = tape.replay.as_ref().and_then(|r| r.wall.get(position).copied());
        let reading = replayed.unwrap_or_else(wall_now);
        if tape.keep(READING_BYTES) {
            tape.wall.push(reading);
        }
        reading
    }

    fn read_monotonic(&self) -> u64 {
        let mut tape = self.tape();
        let live = tape.origin.elapsed().as_nanos() as u64;
        if !tape.journaling || tape.overflowed {
            let shift = tape.replay.as_ref().and_then(|replay| replay.monotonic_shift).unwrap_or(0);
            return live + shift;
        }
        let tape = &mut *tape;
        let position = tape.monotonic.len();
        let reading = match &mut tape.replay {
            Some(replay) => match replay.monotonic.get(position) {
                Some(&replayed) => replayed,
                None => {
                    let last = tape.monotonic.last().copied().unwrap_or(0);
                    let shift = *replay.monotonic_shift.get_or_insert(last.saturating_sub(live));
                    live + shift
                }
            },
            None => live,
        };
        if tape.keep(READING_BYTES) {
            tape.monotonic.push(reading);
        }
        reading
    }
}

/// What a clock reading adds to a journal.
const READING_BYTES: usize = 8;

impl Tape {
    /// Counts `bytes` more against [`JOURNAL_CAP`]; past it the journal is
    /// dropped (the execution can no longer pause) and `false` says not to
    /// keep them.
    fn keep(&mut self, bytes: usize) -> bool {
        self.bytes += bytes;
        if self.bytes > JOURNAL_CAP {
            self.overflowed = true;
            self.calls.clear();
            self.wall = Vec::new();
            self.monotonic = Vec::new();
            return false;
        }
        true
    }
}

/// Nanoseconds since the Unix epoch.
fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// `wasi:clocks/wall-clock`, through the tape.
pub(crate) struct JournaledWallClock(Recorder);

impl HostWallClock for JournaledWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.read_wall())
    }
}

/// `wasi:clocks/monotonic-clock`, through the tape.
pub(crate) struct JournaledMonotonicClock(Recorder);

impl HostMonotonicClock for JournaledMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.read_monotonic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::journal::FORMAT;

    fn journal_of(recorder: &Recorder) -> Journal {
        let recorded = recorder.recorded().expect("paused");
        Journal {
            format: FORMAT,
            execution_id: "e".into(),
            session: "s".into(),
            language: "javascript".into(),
            code: String::new(),
            code_sha256: String::new(),
            guest: String::new(),
            seed: String::new(),
            limits: Default::default(),
            elapsed_us: 0,
            stdout_bytes: 0,
            stderr_bytes: 0,
            calls: recorded.calls,
            wall_clock_ns: recorded.wall,
            monotonic_clock_ns: recorded.monotonic,
            schemas: Default::default(),
            pending: recorded.pending,
            paused_at: 0,
            expires_at: 0,
            session_skills: Vec::new(),
        }
    }

    #[test]
    fn a_replay_answers_from_the_record_then_goes_live_at_the_pending_call() {
        let original = Recorder::default();
        let (a, b, c) = (original.claim(), original.claim(), original.claim());
        original.record(a, "crm", "get", "{}", &Ok("1".into()));
        original.pause(b, "mail", "send", r#"{"to":"[EMAIL_1]"}"#, "tools mail.*".into()).unwrap();
        original.record(c, "crm", "get", r#"{"id":2}"#, &Err(ToolError::Failed("no".into())));
        let wall = original.wall_clock().now();
        let journal = journal_of(&original);

        let replay = Recorder::replaying(&journal, original.seed(), Some(Decision::Approve));
        assert_eq!(replay.wall_clock().now(), wall, "clock readings replay");
        let (a, b, c) = (replay.claim(), replay.claim(), replay.claim());
        assert!(matches!(replay.step(a, "crm", "get", "{}"), Step::Replayed(Ok(json)) if json == "1"));
        assert!(matches!(replay.step(c, "crm", "get", r#"{"id":2}"#), Step::Replayed(Err(ToolError::Failed(_)))));
        assert!(matches!(
            replay.step(b, "mail", "send", r#"{"to":"[EMAIL_1]"}"#),
            Step::Decided(Some(Decision::Approve))
        ));
        assert!(matches!(replay.step(replay.claim(), "crm", "get", "{}"), Step::Live));
        assert!(replay.diverged().is_none());
        assert_eq!(replay.random().2, Recorder::replaying(&journal, original.seed(), None).random().2);
        assert_ne!(replay.random().2, replay.random().2, "each instance draws its own");
    }

    #[test]
    fn a_live_recorder_or_an_overflowing_journal_cannot_pause() {
        let live = Recorder::live();
        let index = live.claim();
        live.record(index, "crm", "get", "{}", &Ok("1".into()));
        assert!(live.pause(live.claim(), "mail", "send", "{}", String::new()).is_err());
        assert!(live.recorded().is_none());

        let big = Recorder::default();
        let answer = Ok("x".repeat(JOURNAL_CAP / 2 + 1));
        for _ in 0..2 {
            let index = big.claim();
            big.record(index, "crm", "get", "{}", &answer);
        }
        let refused = big.pause(big.claim(), "mail", "send", "{}", String::new()).unwrap_err();
        assert!(refused.contains("64 MiB"), "{refused}");

        // Clock readings count too, and past the cap are no longer kept.
        let clocks = Recorder::default();
        let wall = clocks.wall_clock();
        for _ in 0..=JOURNAL_CAP / READING_BYTES {
            std::hint::black_box(HostWallClock::now(&wall));
        }
        assert!(clocks.tape().wall.is_empty(), "dropped past the cap");
        assert!(clocks.pause(clocks.claim(), "mail", "send", "{}", String::new()).is_err());
    }

    #[test]
    fn a_different_call_or_argument_diverges() {
        let original = Recorder::default();
        let a = original.claim();
        original.record(a, "crm", "get", r#"{"id":1}"#, &Ok("1".into()));
        original.pause(original.claim(), "mail", "send", "{}", String::new()).unwrap();
        let journal = journal_of(&original);
        for (tool, arguments) in [("get", r#"{"id":2}"#), ("delete", r#"{"id":1}"#)] {
            let replay = Recorder::replaying(&journal, [0; 32], None);
            assert!(matches!(replay.step(replay.claim(), "crm", tool, arguments), Step::Diverged));
            assert!(replay.diverged().unwrap().contains("call 1"), "{:?}", replay.diverged());
        }
        let replay = Recorder::replaying(&journal, [0; 32], None);
        replay.step(replay.claim(), "crm", "get", r#"{"id":1}"#);
        assert!(matches!(replay.step(replay.claim(), "mail", "send", r#"{"x":1}"#), Step::Diverged));
    }
}
