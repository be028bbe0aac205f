//! The transport to a stdio server: its process, and rmcp's line transport
//! over its pipes, reading through a [`ReplyGuard`].
//!
//! rmcp drops a message longer than its line cap without a word, so the
//! call it answered would wait for its timeout and then blame the server
//! for not answering. The guard cuts such a message and puts a JSON-RPC
//! error with its id in its place: the call fails at once, saying why.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The longest message a server may send, in bytes: rmcp's own default cap.
pub(super) const MAX_MESSAGE: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// How long closing waits for the process to exit after its stdin closes,
/// and again after SIGTERM, before it is killed (the MCP spec's order).
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// A started stdio server: rmcp's transport over its stdin and stdout.
pub(super) struct StdioServer {
    child: Option<Child>,
    transport: AsyncRwTransport<RoleClient, ReplyGuard<ChildStdout>, ChildStdin>,
}

impl StdioServer {
    /// The transport to `child`, whose stdin and stdout are piped (and
    /// which is killed when dropped).
    pub(super) fn new(mut child: Child) -> std::io::Result<Self> {
        let missing = |what: &str| std::io::Error::other(format!("the server's {what} is not piped"));
        let stdin = child.stdin.take().ok_or_else(|| missing("stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| missing("stdout"))?;
        // rmcp's cap sits above the guard's, so what the guard lets
        // through is never dropped silently.
        let transport = AsyncRwTransport::new(ReplyGuard::new(stdout), stdin).with_max_line_length(MAX_MESSAGE + 1);
        Ok(StdioServer { child: Some(child), transport })
    }
}

impl Transport<RoleClient> for StdioServer {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.transport.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.transport.receive()
    }

    /// Closes the server's stdin and waits for it to exit; then SIGTERM,
    /// then SIGKILL. (Dropped instead, the process is killed.)
    async fn close(&mut self) -> Result<(), Self::Error> {
        self.transport.close().await?;
        let Some(mut child) = self.child.take() else { return Ok(()) };
        if tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok() {
            return Ok(());
        }
        if let Some(pid) = child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32)) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            if tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok() {
                return Ok(());
            }
        }
        child.kill().await
    }
}

/// The bytes of a line kept to find its id: JSON-RPC puts `id` among the
/// first keys (Python SDK) or last (TypeScript SDK).
const ENDS: usize = 256;

/// Reads a server's stdout for rmcp, cutting any message longer than
/// [`MAX_MESSAGE`]: its first `MAX_MESSAGE` bytes pass and end there (rmcp
/// drops them as unparsable), the rest is skipped, and an error response
/// with the message's id follows.
pub(super) struct ReplyGuard<R> {
    inner: R,
    /// Bytes of the current line passed on so far.
    line: usize,
    /// Within a line past the cap: bytes skipped so far, else `None`.
    skipped: Option<usize>,
    /// The current line's first bytes, and the last ones of a skipped line.
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Filtered bytes not yet handed to the reader.
    out: Vec<u8>,
    /// How much of `out` was handed on.
    handed: usize,
    scratch: Box<[u8]>,
}

impl<R> ReplyGuard<R> {
    pub(super) fn new(inner: R) -> Self {
        ReplyGuard {
            inner,
            line: 0,
            skipped: None,
            head: Vec::with_capacity(ENDS),
            tail: Vec::new(),
            out: Vec::new(),
            handed: 0,
            scratch: vec![0; 64 << 10].into_boxed_slice(),
        }
    }

    /// Filters `bytes` into `out`.
    fn filter(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (segment, rest) = match newline {
                Some(at) => (&bytes[..at], &bytes[at + 1..]),
                None => (bytes, &[][..]),
            };
            match &mut self.skipped {
                None => {
                    let room = MAX_MESSAGE - self.line;
                    let passed = &segment[..segment.len().min(room)];
                    let keep = ENDS.saturating_sub(self.head.len()).min(passed.len());
                    self.head.extend_from_slice(&passed[..keep]);
                    // Only the bytes just short of the cap can be among the
                    // last of a message that is cut: a line that ends
                    // before costs nothing here.
                    let near_cap = (MAX_MESSAGE - ENDS).saturating_sub(self.line).min(passed.len());
                    self.keep_tail(&passed[near_cap..]);
                    self.out.extend_from_slice(passed);
                    self.line += passed.len();
                    if segment.len() > room {
                        // Over the cap: end the line for rmcp here.
                        self.out.push(b'\n');
                        self.skipped = Some(0);
                        self.skip(&segment[room..]);
                    }
                }
                Some(_) => self.skip(segment),
            }
            if newline.is_some() {
                match self.skipped.take() {
                    Some(skipped) => self.replace_cut_message(skipped),
                    None => self.out.push(b'\n'),
                }
                self.line = 0;
                self.head.clear();
                self.tail.clear();
            }
            bytes = rest;
        }
    }

    /// Skips `bytes` of a line past the cap, keeping its last ones.
    fn skip(&mut self, bytes: &[u8]) {
        if let Some(skipped) = &mut self.skipped {
            *skipped += bytes.len();
        }
        self.keep_tail(bytes);
    }

    /// Keeps the last [`ENDS`] bytes of the line so far.
    fn keep_tail(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(&bytes[bytes.len().saturating_sub(ENDS)..]);
        let excess = self.tail.len().saturating_sub(ENDS);
        self.tail.drain(..excess);
    }

    /// Puts an error response in place of the message just cut, when its
    /// id can be read; without one, nothing can be told to its caller.
    fn replace_cut_message(&mut self, skipped: usize) {
        let size = self.line + skipped;
        let id = match leading_id(&self.head) {
            Leading::Id(id) => Some(id),
            // A request or notification from the server: no call of ours
            // waits for it.
            Leading::Request => None,
            Leading::Unknown => trailing_id(&self.tail),
        };
        let Some(id) = id else {
            tracing::warn!(
                size,
                "a server sent a message over {MAX_MESSAGE} bytes with no id that could be read; dropped"
            );
            return;
        };
        let message = format!(
            "the server's reply is {size} bytes, over the {} MiB a message may have; ask it for less \
             (a smaller page, a narrower query)",
            MAX_MESSAGE >> 20
        );
        let error = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32603, "message": message},
        });
        self.out.extend_from_slice(error.to_string().as_bytes());
        self.out.push(b'\n');
    }
}

/// What the first keys of a message tell.
#[derive(Debug, PartialEq)]
enum Leading {
    /// Its id, among scalar keys: `{"jsonrpc":"2.0","id":7,"result":…`.
    Id(serde_json::Value),
    /// It has a `method`: a request or notification, not a reply.
    Request,
    /// Nothing before the first key that is not a scalar.
    Unknown,
}

/// Reads the scalar keys a message starts with.
fn leading_id(head: &[u8]) -> Leading {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut inside a character: what comes before it.
        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or(""),
    };
    let Some(mut rest) = valid.trim_start_matches('\u{feff}').trim_start().strip_prefix('{') else {
        return Leading::Unknown;
    };
    loop {
        let Some((key, after)) = json_string(rest.trim_start()) else { return Leading::Unknown };
        if key == "method" {
            return Leading::Request;
        }
        let Some(value) = after.trim_start().strip_prefix(':') else { return Leading::Unknown };
        let Some((value, after)) = json_scalar(value.trim_start()) else { return Leading::Unknown };
        if key == "id" {
            return if value.is_number() || value.is_string() { Leading::Id(value) } else { Leading::Unknown };
        }
        let Some(after) = after.trim_start().strip_prefix(',') else { return Leading::Unknown };
        rest = after;
    }
}

/// The id of a JSON-RPC message whose last key is `id`:
/// `…},"jsonrpc":"2.0","id":7}`.
fn trailing_id(tail: &[u8]) -> Option<serde_json::Value> {
    let valid = match std::str::from_utf8(tail) {
        Ok(text) => text,
        // The kept bytes may start inside a character.
        Err(_) => std::str::from_utf8(&tail[tail.iter().position(|&b| b < 0x80)?..]).ok()?,
    };
    let body = valid.trim_end().strip_suffix('}')?.trim_end();
    let at = body.rfind("\"id\"")?;
    let value = body[at + 4..].trim_start().strip_prefix(':')?.trim();
    let (id, rest) = json_scalar(value)?;
    (rest.trim().is_empty() && (id.is_number() || id.is_string())).then_some(id)
}

/// A JSON string at the start of `text` (no escapes needed for keys and
/// ids), and what follows it.
fn json_string(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.find(['"', '\\'])?;
    (body.as_bytes()[end] == b'"').then(|| (body[..end].to_string(), &body[end + 1..]))
}

/// A JSON number or string at the start of `text`, and what follows it.
fn json_scalar(text: &str) -> Option<(serde_json::Value, &str)> {
    if text.starts_with('"') {
        let (string, rest) = json_string(text)?;
        return Some((serde_json::Value::String(string), rest));
    }
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))).unwrap_or(text.len());
    let value: serde_json::Value = serde_json::from_str(&text[..end]).ok()?;
    (!value.is_object() && !value.is_array()).then_some((value, &text[end..]))
}

impl<R: AsyncRead + Unpin> AsyncRead for ReplyGuard<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.handed < this.out.len() {
                let n = (this.out.len() - this.handed).min(buf.remaining());
                buf.put_slice(&this.out[this.handed..this.handed + n]);
                this.handed += n;
                if this.handed == this.out.len() {
                    this.out.clear();
                    this.handed = 0;
                }
                return Poll::Ready(Ok(()));
            }
            // Taken out while read into, so that `filter` may borrow it.
            let mut scratch = std::mem::take(&mut this.scratch);
            let mut read = ReadBuf::new(&mut scratch);
            let polled = Pin::new(&mut this.inner).poll_read(cx, &mut read);
            let filled = read.filled().len();
            if let Poll::Ready(Ok(())) = polled
                && filled > 0
            {
                this.filter(&scratch[..filled]);
            }
            this.scratch = scratch;
            match polled {
                Poll::Ready(Ok(())) if filled > 0 => {}
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn filtered(input: Vec<u8>) -> Vec<u8> {
        let mut guard = ReplyGuard::new(&input[..]);
        let mut out = Vec::new();
        guard.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn lines_under_the_cap_pass_unchanged() {
        let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n{\"a\":\"\xc3\xa9\"}\npartial".to_vec();
        assert_eq!(filtered(input.clone()).await, input);
    }

    #[tokio::test]
    async fn a_message_over_the_cap_becomes_an_error_with_its_id() {
        for (head, tail, id) in [
            ("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"text\":\"", "\"}}", "7"),
            (
                "{\"result\":{\"items\":[{\"id\":1,\"text\":\"",
                "\"}]},\"jsonrpc\":\"2.0\",\"id\":\"call-9\"}",
                "\"call-9\"",
            ),
        ] {
            let mut input = head.as_bytes().to_vec();
            input.extend(std::iter::repeat_n(b'x', MAX_MESSAGE + 10));
            input.extend_from_slice(tail.as_bytes());
            input.extend_from_slice(b"\n{\"next\":1}\n");
            let out = filtered(input).await;
            let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
            // The cut first part (rmcp drops it), the error, the next line.
            assert_eq!(lines[0].len(), MAX_MESSAGE);
            let error: serde_json::Value = serde_json::from_slice(lines[1]).unwrap();
            assert_eq!(error["id"].to_string(), id);
            assert!(error["error"]["message"].as_str().unwrap().contains("over the 16 MiB"), "{error}");
            assert_eq!(lines[2], b"{\"next\":1}");
        }
    }

    #[tokio::test]
    async fn a_message_just_over_the_cap_keeps_its_trailing_id() {
        let tail = "\"}]},\"jsonrpc\":\"2.0\",\"id\":42}";
        let head = "{\"result\":{\"items\":[{\"text\":\"";
        let mut input = head.as_bytes().to_vec();
        // Over the cap by 3 bytes: most of the id is in the part passed on.
        input.extend(std::iter::repeat_n(b'x', MAX_MESSAGE + 3 - head.len() - tail.len()));
        input.extend_from_slice(tail.as_bytes());
        input.push(b'\n');
        let out = filtered(input).await;
        let error: serde_json::Value = serde_json::from_slice(out.split(|&b| b == b'\n').nth(1).unwrap()).unwrap();
        assert_eq!(error["id"], 42);
    }

    #[test]
    fn ids_are_read_only_where_json_rpc_puts_them() {
        assert_eq!(leading_id(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":"), Leading::Id(serde_json::json!(3)));
        assert_eq!(leading_id(b"{\"result\":{\"id\":3"), Leading::Unknown);
        assert_eq!(leading_id(b"{\"method\":\"sampling/createMessage\",\"params\":{"), Leading::Request);
        assert_eq!(leading_id(b"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":"), Leading::Unknown);
        assert_eq!(trailing_id(b"xx\"}]},\"jsonrpc\":\"2.0\",\"id\":12}\r"), Some(serde_json::json!(12)));
        assert_eq!(trailing_id(b"{\"id\":5,\"more\":1}"), None);
    }
}
