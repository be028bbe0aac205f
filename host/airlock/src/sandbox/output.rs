//! Captured stdout/stderr with a byte cap.
//!
//! Output up to the cap is kept; the write that crosses it keeps what fits,
//! marks the capture truncated and traps, which ends the execution with the
//! `output` limit.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamError, StreamResult};

/// The error a capped stream traps with.
#[derive(Debug, thiserror::Error)]
#[error("{stream} went past its cap of {cap} bytes")]
pub struct OutputLimitExceeded {
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// The cap in bytes.
    pub cap: u64,
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    truncated: bool,
    /// Bytes still to drop (printed before a pause, shown then), and
    /// bytes dropped so far: they count against the cap.
    skip: usize,
    dropped: usize,
}

/// One captured stream; clones share the same buffer.
#[derive(Clone)]
pub struct CappedOutput {
    name: &'static str,
    cap: u64,
    buffer: Arc<Mutex<Buffer>>,
}

impl CappedOutput {
    /// A capture named `name` (`stdout` or `stderr`) keeping at most `cap` bytes.
    pub fn new(name: &'static str, cap: u64) -> Self {
        CappedOutput { name, cap, buffer: Arc::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A poisoned lock only means a writer panicked; the bytes are intact.
        self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `bytes`, or keeps what fits and reports the limit.
    fn append(&self, bytes: &[u8]) -> Result<(), OutputLimitExceeded> {
        let mut buffer = self.lock();
        let skipped = buffer.skip.min(bytes.len());
        if skipped > 0 {
            buffer.skip -= skipped;
            buffer.dropped += skipped;
        }
        let bytes = &bytes[skipped..];
        let room = usize::try_from(self.cap).unwrap_or(usize::MAX).saturating_sub(buffer.bytes.len() + buffer.dropped);
        if bytes.len() <= room && !buffer.truncated {
            buffer.bytes.extend_from_slice(bytes);
            return Ok(());
        }
        let keep = room.min(bytes.len());
        buffer.bytes.extend_from_slice(&bytes[..keep]);
        buffer.truncated = true;
        Err(OutputLimitExceeded { stream: self.name, cap: self.cap })
    }

    /// Drops the first `bytes` written from now on (a replay prints again
    /// what its execution printed before it paused).
    pub fn skip(&self, bytes: usize) {
        self.lock().skip = bytes;
    }

    /// Bytes written so far, dropped ones included.
    pub fn written(&self) -> usize {
        let buffer = self.lock();
        buffer.bytes.len() + buffer.dropped
    }

    /// Whether output was cut at the cap.
    pub fn truncated(&self) -> bool {
        self.lock().truncated
    }

    /// The captured text (invalid UTF-8 replaced), with a marker if it was
    /// cut.
    pub fn text(&self) -> String {
        let buffer = self.lock();
        let mut bytes = &buffer.bytes[..];
        if buffer.truncated {
            // The cut may fall inside a character: end before it.
            if let Err(error) = std::str::from_utf8(bytes)
                && error.error_len().is_none()
            {
                bytes = &bytes[..error.valid_up_to()];
            }
        }
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        if buffer.truncated {
            if !text.ends_with('\n') && !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("[airlock: {} truncated at {} bytes]\n", self.name, self.cap));
        }
        text
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi_io::async_trait]
impl Pollable for CappedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes).map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always accept a write, so that the one that crosses the cap
        // reaches `write` and traps instead of blocking forever.
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CappedOutput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(self.append(bytes).map(|()| bytes.len()).map_err(io::Error::other))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_fits_and_marks_the_cut() {
        let out = CappedOutput::new("stdout", 10);
        out.append(b"hello ").unwrap();
        let err = out.append(b"world!").unwrap_err();
        assert_eq!(err.cap, 10);
        assert!(out.truncated());
        assert_eq!(out.text(), "hello worl\n[airlock: stdout truncated at 10 bytes]\n");
        // Nothing is appended after the cut.
        assert!(out.append(b"x").is_err());
        assert!(out.text().starts_with("hello worl\n"));

        // A cut inside a character ends before it, not with U+FFFD.
        let out = CappedOutput::new("stdout", 4);
        let _ = out.append("abcé".as_bytes());
        assert_eq!(out.text(), "abc\n[airlock: stdout truncated at 4 bytes]\n");
    }

    #[test]
    fn output_under_the_cap_is_untouched() {
        let out = CappedOutput::new("stderr", 100);
        out.append("héllo\n".as_bytes()).unwrap();
        assert_eq!(out.text(), "héllo\n");
        assert!(!out.truncated());
    }
}
