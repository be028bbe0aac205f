//! `wasi:filesystem/types` as wasmtime-wasi implements it, with the
//! execution's [`WorkspaceQuota`] charged before the folder grows and its
//! open files counted (see the parent module). File output streams are
//! this module's own ([`QuotaStream`]), so that each write holds the
//! folder's growing lock until its bytes land.

use std::sync::Arc;

use bytes::Bytes;
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, Filesize, HostDescriptor,
    HostDirectoryEntryStream, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{FsError, FsResult};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{
    DynInputStream, DynOutputStream, InputStream, OutputStream, StreamError, StreamResult,
};

use super::{ENTRY_BYTES, HeldFiles, OpenFile, WorkspaceQuota};
use crate::sandbox::StoreState;

/// Links `wasi:filesystem/types` through [`WorkspaceFs`], in place of
/// wasmtime-wasi's own (which [`wasmtime_wasi::p2::add_to_linker_async`]
/// added before).
pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    types::add_to_linker::<StoreState, WorkspaceFs>(linker, StoreState::workspace_fs)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The [`HasData`] behind [`add_to_linker`].
pub(crate) struct WorkspaceFs;

impl HasData for WorkspaceFs {
    type Data<'a> = WorkspaceFsView<'a>;
}

/// wasmtime-wasi's filesystem, with the execution's quota.
pub(crate) struct WorkspaceFsView<'a> {
    fs: WasiFilesystemCtxView<'a>,
    quota: Option<Arc<WorkspaceQuota>>,
    held: HeldFiles,
}

impl StoreState {
    fn workspace_fs(&mut self) -> WorkspaceFsView<'_> {
        let quota = self.surroundings.quota.clone();
        let held = self.held.clone();
        WorkspaceFsView { fs: self.filesystem(), quota, held }
    }
}

/// A second handle to the descriptor a call borrowed.
fn again<T: 'static>(fd: &Resource<T>) -> Resource<T> {
    Resource::new_borrow(fd.rep())
}

impl WorkspaceFsView<'_> {
    fn charge(&self, bytes: u64) -> FsResult<()> {
        match &self.quota {
            Some(quota) => quota.charge(bytes).map_err(FsError::trap),
            None => Ok(()),
        }
    }

    /// Measures the folder unless that was done. (The future holds the
    /// quota only: the view's table is not `Sync`.)
    fn measure(&self) -> impl Future<Output = ()> + Send + 'static {
        let quota = self.quota.clone();
        async move {
            if let Some(quota) = quota {
                quota.measure().await;
            }
        }
    }

    fn credit(&self, bytes: u64) {
        if let Some(quota) = &self.quota {
            quota.credit(bytes);
        }
    }

    /// Gives back `charged` when the operation it was charged for failed
    /// (`mkdir` of a folder that exists, a write the descriptor may not
    /// make).
    fn refund_on_error<T>(&self, charged: u64, result: FsResult<T>) -> FsResult<T> {
        if result.is_err() {
            self.credit(charged);
        }
        result
    }

    /// The file's length now.
    async fn length(&mut self, fd: &Resource<types::Descriptor>) -> FsResult<u64> {
        Ok(self.fs.stat(again(fd)).await?.size)
    }

    /// Puts a [`QuotaStream`] writing to `file` from `position` (the end,
    /// appending) in the table in place of wasmtime-wasi's `stream`.
    fn wrap(
        &mut self,
        stream: Resource<DynOutputStream>,
        file: Option<Arc<std::fs::File>>,
        position: Option<u64>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let (Some(quota), Some(file)) = (self.quota.clone(), file) else { return Ok(stream) };
        // wasmtime-wasi made its stream after checking the descriptor may
        // write; this one writes in its place.
        drop(self.fs.table.delete(stream)?);
        let wrapped: DynOutputStream = Box::new(QuotaStream::new(quota, file, position));
        Ok(self.fs.table.push(wrapped)?)
    }

    /// The open file behind `fd` (none for a folder, whose stream
    /// wasmtime-wasi refuses itself).
    fn file_of(&mut self, fd: &Resource<types::Descriptor>) -> FsResult<Option<Arc<std::fs::File>>> {
        Ok(match self.fs.table.get(fd)? {
            Descriptor::File(file) => Some(file.file.clone()),
            Descriptor::Dir(_) => None,
        })
    }
}

impl types::Host for WorkspaceFsView<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<ErrorCode> {
        self.fs.convert_error_code(err)
    }

    fn filesystem_error_code(&mut self, err: Resource<wasmtime::Error>) -> wasmtime::Result<Option<ErrorCode>> {
        self.fs.filesystem_error_code(err)
    }
}

impl HostDescriptor for WorkspaceFsView<'_> {
    async fn set_size(&mut self, fd: Resource<types::Descriptor>, size: Filesize) -> FsResult<()> {
        if let Some(quota) = self.quota.clone() {
            self.measure().await;
            let _alone = quota.shrinking().await;
            let length = self.length(&fd).await?;
            let growth = size.saturating_sub(length);
            self.charge(growth)?;
            let result = self.fs.set_size(fd, size).await;
            self.refund_on_error(growth, result)?;
            self.credit(length.saturating_sub(size));
            return Ok(());
        }
        self.fs.set_size(fd, size).await
    }

    async fn write(
        &mut self,
        fd: Resource<types::Descriptor>,
        buffer: Vec<u8>,
        offset: Filesize,
    ) -> FsResult<Filesize> {
        if let Some(quota) = self.quota.clone() {
            self.measure().await;
            let _growing = quota.growing().await;
            let length = self.length(&fd).await?;
            let growth = offset.saturating_add(buffer.len() as u64).saturating_sub(length);
            self.charge(growth)?;
            let result = self.fs.write(fd, buffer, offset).await;
            return self.refund_on_error(growth, result);
        }
        self.fs.write(fd, buffer, offset).await
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<DynOutputStream>> {
        let file = self.file_of(&fd)?;
        let stream = self.fs.write_via_stream(fd, offset)?;
        self.wrap(stream, file, Some(offset))
    }

    fn append_via_stream(&mut self, fd: Resource<types::Descriptor>) -> FsResult<Resource<DynOutputStream>> {
        let file = self.file_of(&fd)?;
        let stream = self.fs.append_via_stream(fd)?;
        self.wrap(stream, file, None)
    }

    async fn create_directory_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        self.measure().await;
        self.charge(ENTRY_BYTES)?;
        let result = self.fs.create_directory_at(fd, path).await;
        self.refund_on_error(ENTRY_BYTES, result)
    }

    async fn link_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_path_flags: PathFlags,
        old_path: String,
        new_descriptor: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        self.measure().await;
        self.charge(ENTRY_BYTES)?;
        let result = self.fs.link_at(fd, old_path_flags, old_path, new_descriptor, new_path).await;
        self.refund_on_error(ENTRY_BYTES, result)
    }

    async fn symlink_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        self.measure().await;
        self.charge(ENTRY_BYTES)?;
        let result = self.fs.symlink_at(fd, src_path, dest_path).await;
        self.refund_on_error(ENTRY_BYTES, result)
    }

    async fn open_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Resource<types::Descriptor>> {
        let Some(quota) = self.quota.clone() else {
            return self.fs.open_at(fd, path_flags, path, oflags, flags).await;
        };
        let file = quota.open_file().map_err(FsError::trap)?;
        let writes =
            oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE) || flags.contains(DescriptorFlags::WRITE);
        let (mut truncated, mut created) = (0, 0);
        let mut _alone = None;
        if writes {
            // Measured here, on a blocking thread, so that the streams the
            // file gives charge without walking the folder.
            self.measure().await;
            if oflags.contains(OpenFlags::TRUNCATE) {
                _alone = Some(quota.shrinking().await);
            }
            let existing = self.fs.stat_at(again(&fd), path_flags, path.clone()).await.ok();
            if oflags.contains(OpenFlags::CREATE) && existing.is_none() {
                self.charge(ENTRY_BYTES)?;
                created = ENTRY_BYTES;
            }
            if let Some(stat) = existing
                && oflags.contains(OpenFlags::TRUNCATE)
                && stat.type_ == DescriptorType::RegularFile
            {
                truncated = stat.size;
            }
        }
        let result = self.fs.open_at(fd, path_flags, path, oflags, flags).await;
        let opened = self.refund_on_error(created, result)?;
        self.held.hold(opened.rep(), file);
        self.credit(truncated);
        Ok(opened)
    }

    async fn advise(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
        len: Filesize,
        advice: Advice,
    ) -> FsResult<()> {
        self.fs.advise(fd, offset, len, advice).await
    }

    async fn sync_data(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        self.fs.sync_data(fd).await
    }

    async fn get_flags(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorFlags> {
        self.fs.get_flags(fd).await
    }

    async fn get_type(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorType> {
        self.fs.get_type(fd).await
    }

    async fn set_times(
        &mut self,
        fd: Resource<types::Descriptor>,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        self.fs.set_times(fd, atim, mtim).await
    }

    async fn read(
        &mut self,
        fd: Resource<types::Descriptor>,
        len: Filesize,
        offset: Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        self.fs.read(fd, len, offset).await
    }

    async fn read_directory(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<Resource<types::DirectoryEntryStream>> {
        let Some(quota) = self.quota.clone() else { return self.fs.read_directory(fd).await };
        let listing = quota.open_file().map_err(FsError::trap)?;
        let stream = self.fs.read_directory(fd).await?;
        self.held.hold(stream.rep(), listing);
        Ok(stream)
    }

    async fn sync(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        self.fs.sync(fd).await
    }

    async fn stat(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorStat> {
        self.fs.stat(fd).await
    }

    async fn stat_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<DescriptorStat> {
        self.fs.stat_at(fd, path_flags, path).await
    }

    async fn set_times_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        self.fs.set_times_at(fd, path_flags, path, atim, mtim).await
    }

    fn drop(&mut self, fd: Resource<types::Descriptor>) -> wasmtime::Result<()> {
        self.held.release(fd.rep());
        HostDescriptor::drop(&mut self.fs, fd)
    }

    async fn readlink_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<String> {
        self.fs.readlink_at(fd, path).await
    }

    async fn remove_directory_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        self.fs.remove_directory_at(fd, path).await?;
        self.credit(ENTRY_BYTES);
        Ok(())
    }

    async fn rename_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_path: String,
        new_fd: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        self.fs.rename_at(fd, old_path, new_fd, new_path).await
    }

    async fn unlink_file_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        self.fs.unlink_file_at(fd, path).await?;
        // The entry only: an open descriptor or another link may keep the
        // bytes, which come back when the folder is next measured.
        self.credit(ENTRY_BYTES);
        Ok(())
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<DynInputStream>> {
        let stream = self.fs.read_via_stream(fd, offset)?;
        let Some(quota) = &self.quota else { return Ok(stream) };
        let inner = self.fs.table.delete(stream)?;
        let counted: DynInputStream = Box::new(CountedInput { inner, _open: quota.open_stream() });
        Ok(self.fs.table.push(counted)?)
    }

    async fn is_same_object(
        &mut self,
        a: Resource<types::Descriptor>,
        b: Resource<types::Descriptor>,
    ) -> wasmtime::Result<bool> {
        self.fs.is_same_object(a, b).await
    }

    async fn metadata_hash(&mut self, fd: Resource<types::Descriptor>) -> FsResult<MetadataHashValue> {
        self.fs.metadata_hash(fd).await
    }

    async fn metadata_hash_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<MetadataHashValue> {
        self.fs.metadata_hash_at(fd, path_flags, path).await
    }
}

impl HostDirectoryEntryStream for WorkspaceFsView<'_> {
    async fn read_directory_entry(
        &mut self,
        stream: Resource<types::DirectoryEntryStream>,
    ) -> FsResult<Option<DirectoryEntry>> {
        self.fs.read_directory_entry(stream).await
    }

    fn drop(&mut self, stream: Resource<types::DirectoryEntryStream>) -> wasmtime::Result<()> {
        self.held.release(stream.rep());
        HostDirectoryEntryStream::drop(&mut self.fs, stream)
    }
}

/// A file's output stream that charges the bytes it writes past the
/// file's end. It writes the file itself, as wasmtime-wasi's own stream
/// does (one write in flight, on a blocking thread), so that the write can
/// hold the folder's [`WorkspaceQuota::growing`] lock from the look at the
/// file's length until its bytes land: no truncation comes between, and
/// the lock is never held while the guest runs (a truncation by the same
/// execution waits only for its own writes to land).
struct QuotaStream {
    quota: Arc<WorkspaceQuota>,
    file: Arc<std::fs::File>,
    /// Where the next write lands; `None` appends.
    position: Option<u64>,
    state: WriteState,
    /// The file it keeps open.
    _open: OpenFile,
}

enum WriteState {
    Ready,
    /// A write in flight: the bytes it wrote, or why it failed. Dropping
    /// the stream lets it land (it holds the lock until then).
    Waiting(tokio::task::JoinHandle<StreamResult<u64>>),
    /// The last write failed: reported once, then the stream is closed.
    Failed(StreamError),
    Closed,
}

/// The most one write may hand over (wasmtime-wasi's own budget).
const WRITE_BUDGET: usize = 64 << 10;

impl QuotaStream {
    fn new(quota: Arc<WorkspaceQuota>, file: Arc<std::fs::File>, position: Option<u64>) -> Self {
        let _open = quota.open_stream();
        QuotaStream { quota, file, position, state: WriteState::Ready, _open }
    }

    /// The outcome of the write in flight, once it landed.
    async fn settle(&mut self) {
        if let WriteState::Waiting(task) = &mut self.state {
            self.state = match task.await {
                Ok(Ok(written)) => {
                    if let Some(position) = &mut self.position {
                        *position += written;
                    }
                    WriteState::Ready
                }
                Ok(Err(error)) => WriteState::Failed(error),
                Err(joined) => WriteState::Failed(StreamError::Trap(wasmtime::Error::msg(joined.to_string()))),
            };
        }
    }

    /// A failure not yet reported, which closes the stream.
    fn failure(&mut self) -> StreamResult<()> {
        match std::mem::replace(&mut self.state, WriteState::Closed) {
            WriteState::Failed(error) => Err(error),
            WriteState::Closed => Err(StreamError::Closed),
            other => {
                self.state = other;
                Ok(())
            }
        }
    }
}

/// Charges and writes `bytes` to `file` at `position` (the end when
/// `None`), all of it; holds the growing lock throughout.
async fn charge_and_write(
    quota: Arc<WorkspaceQuota>,
    file: Arc<std::fs::File>,
    position: Option<u64>,
    bytes: Bytes,
) -> StreamResult<u64> {
    let _growing = quota.growing().await;
    let written = tokio::task::spawn_blocking(move || {
        let length = file.metadata().map_err(|e| StreamError::LastOperationFailed(e.into()))?.len();
        let end = position.unwrap_or(length).saturating_add(bytes.len() as u64);
        quota.charge(end.saturating_sub(length)).map_err(StreamError::Trap)?;
        write_all(&file, &bytes, position).map_err(|e| StreamError::LastOperationFailed(e.into()))?;
        Ok(bytes.len() as u64)
    });
    written.await.map_err(|joined| StreamError::Trap(wasmtime::Error::msg(joined.to_string())))?
}

/// Writes all of `bytes` at `position`, or appended (atomically with other
/// appenders on Linux, as wasmtime-wasi does).
fn write_all(file: &std::fs::File, mut bytes: &[u8], mut position: Option<u64>) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    while !bytes.is_empty() {
        let written = match position {
            Some(at) => file.write_at(bytes, at)?,
            None => append(file, bytes)?,
        };
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[written..];
        if let Some(at) = &mut position {
            *at += written as u64;
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn append(file: &std::fs::File, bytes: &[u8]) -> std::io::Result<usize> {
    use rustix::io::{Errno, ReadWriteFlags, pwritev2};
    match pwritev2(file, &[std::io::IoSlice::new(bytes)], 0, ReadWriteFlags::APPEND) {
        Err(Errno::NOSYS | Errno::NOTSUP) => {}
        done => return Ok(done?),
    }
    append_at_end(file, bytes)
}

#[cfg(not(target_os = "linux"))]
fn append(file: &std::fs::File, bytes: &[u8]) -> std::io::Result<usize> {
    append_at_end(file, bytes)
}

/// Appends where the file ends now (not atomic with other appenders).
fn append_at_end(file: &std::fs::File, bytes: &[u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    file.write_at(bytes, file.metadata()?.len())
}

#[wasmtime_wasi::async_trait]
impl Pollable for QuotaStream {
    async fn ready(&mut self) {
        self.settle().await;
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for QuotaStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        match self.state {
            WriteState::Ready if bytes.len() <= WRITE_BUDGET => {}
            WriteState::Ready => return Err(StreamError::trap("write exceeded budget")),
            WriteState::Closed => return Err(StreamError::Closed),
            WriteState::Waiting(_) | WriteState::Failed(_) => {
                return Err(StreamError::trap("write not permitted: check_write not called first"));
            }
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let task = charge_and_write(self.quota.clone(), self.file.clone(), self.position, bytes);
        self.state = WriteState::Waiting(tokio::spawn(task));
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        // Nothing is buffered here: the write in flight is the flush.
        self.failure()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.failure()?;
        Ok(match self.state {
            WriteState::Waiting(_) => 0,
            _ => WRITE_BUDGET,
        })
    }

    fn write_zeroes(&mut self, count: usize) -> StreamResult<()> {
        self.write(Bytes::from(vec![0; count]))
    }

    async fn cancel(&mut self) {
        // Let the write in flight land: the guest sees its stream closed
        // only once its bytes are where they were counted.
        self.settle().await;
        self.state = WriteState::Closed;
    }
}

/// A file's input stream, counted among the open files while it lives
/// (it keeps the file open after its descriptor is closed).
struct CountedInput {
    inner: DynInputStream,
    _open: OpenFile,
}

#[wasmtime_wasi::async_trait]
impl Pollable for CountedInput {
    async fn ready(&mut self) {
        self.inner.ready().await;
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for CountedInput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        self.inner.read(size)
    }

    async fn blocking_read(&mut self, size: usize) -> StreamResult<Bytes> {
        self.inner.blocking_read(size).await
    }

    fn skip(&mut self, count: usize) -> StreamResult<usize> {
        self.inner.skip(count)
    }

    async fn blocking_skip(&mut self, count: usize) -> StreamResult<usize> {
        self.inner.blocking_skip(count).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limit;
    use crate::sandbox::traps::LimitTrap;

    #[tokio::test]
    async fn a_stream_write_past_the_cap_is_not_made_and_traps_at_the_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(std::fs::File::create(dir.path().join("f")).unwrap());
        // The file's entry, and 10,000 bytes.
        let quota = Arc::new(WorkspaceQuota::join(dir.path(), super::ENTRY_BYTES + 10_000));
        let mut stream = QuotaStream::new(quota, file.clone(), None);
        stream.write(Bytes::from(vec![1; 8_000])).unwrap();
        assert_eq!(stream.check_write().unwrap(), 0, "one write in flight at a time");
        stream.ready().await;
        assert_eq!(stream.check_write().unwrap(), WRITE_BUDGET);
        stream.write(Bytes::from(vec![2; 8_000])).unwrap();
        stream.ready().await;
        let Err(StreamError::Trap(trap)) = stream.check_write() else { panic!("the second write traps") };
        assert!(matches!(trap.downcast_ref::<LimitTrap>(), Some(LimitTrap(Limit::Workspace))));
        assert!(matches!(stream.check_write(), Err(StreamError::Closed)));
        assert_eq!(file.metadata().unwrap().len(), 8_000, "the write that would pass the cap was not made");
    }
}
