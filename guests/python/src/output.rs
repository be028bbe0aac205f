//! `print()` output, written to WASI stdout.
//!
//! Monty hands `print` its pieces one at a time (each argument, each
//! separator, the end); they are gathered and written a line at a time, so
//! a print costs one write, like `console.log` in the JS guest. The host
//! caps the bytes it keeps and may end the execution during a write.

use std::borrow::Cow;
use std::io::Write;

use monty_types::{MontyException, PrintWriterCallback};

/// Output gathered beyond this is written even without a newline.
const FLUSH_AT: usize = 64 << 10;

/// The `print` target of one execution.
#[derive(Default)]
pub struct Stdout {
    pending: String,
}

impl Stdout {
    /// Writes what is gathered. Called at each newline, before every host
    /// call and when the run ends.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        // A write error means the host closed the stream; the text has
        // nowhere else to go, so it is dropped.
        let _ = out.write_all(self.pending.as_bytes()).and_then(|()| out.flush());
        self.pending.clear();
    }
}

impl PrintWriterCallback for Stdout {
    fn stdout_write(&mut self, output: Cow<'_, str>) -> Result<(), MontyException> {
        self.pending.push_str(&output);
        if self.pending.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(())
    }

    fn stdout_push(&mut self, end: char) -> Result<(), MontyException> {
        self.pending.push(end);
        if end == '\n' || self.pending.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(())
    }
}

/// Writes a diagnostic to WASI stderr.
pub fn warn(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}
