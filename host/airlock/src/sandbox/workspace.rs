//! The cap on what code stores in its workspace (`workspace_bytes`).
//!
//! WASI's `wasi:filesystem/types` is linked through [`WorkspaceFs`], which
//! hands every call to wasmtime-wasi's own implementation and, before an
//! operation that can make the folder hold more, charges the growth to the
//! execution's [`WorkspaceQuota`]: bytes past a file's end (by `write`, by
//! a stream, by `set-size`) and [`ENTRY_BYTES`] for each new file, folder
//! or link. What truncating and removing free is credited back, so code may
//! rewrite a file as often as it likes; a file with another link frees
//! nothing. The charge that would pass the cap traps, which ends the
//! execution with the `workspace` limit. Each execution measures the folder
//! afresh when it first writes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, Filesize, HostDescriptor,
    HostDirectoryEntryStream, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{FsError, FsResult};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream, OutputStream, StreamError, StreamResult};

use super::StoreState;
use super::traps::LimitTrap;
use crate::limits::Limit;

/// What a new file, folder or link costs against the cap: about the block
/// a filesystem gives it, so that code cannot exhaust inodes with empty
/// files.
pub(crate) const ENTRY_BYTES: u64 = 4096;

/// How much one execution's workspace may hold, and how much it holds as
/// far as the execution's own writes tell.
pub(crate) struct WorkspaceQuota {
    root: PathBuf,
    cap: u64,
    /// Measured at the first operation that may write, then grown by each
    /// charge.
    used: Mutex<Option<u64>>,
}

impl WorkspaceQuota {
    /// A quota of `cap` bytes over the folder `root`.
    pub(crate) fn new(root: PathBuf, cap: u64) -> Self {
        WorkspaceQuota { root, cap, used: Mutex::new(None) }
    }

    /// The workspace folder.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Measures the folder, off the async worker, unless that was done.
    async fn measure(&self) {
        if self.lock().is_some() {
            return;
        }
        let (root, cap) = (self.root.clone(), self.cap);
        // A runtime shutting down cannot measure on a blocking thread;
        // `charge` then measures where it is.
        if let Ok(measured) = tokio::task::spawn_blocking(move || folder_bytes(&root, cap)).await {
            self.lock().get_or_insert(measured);
        }
    }

    /// Counts `bytes` more, or traps with the `workspace` limit when that
    /// would pass the cap (nothing is counted then).
    fn charge(&self, bytes: u64) -> wasmtime::Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        let mut used = self.lock();
        let used = used.get_or_insert_with(|| folder_bytes(&self.root, self.cap));
        match used.checked_add(bytes).filter(|&next| next <= self.cap) {
            Some(next) => {
                *used = next;
                Ok(())
            }
            None => Err(wasmtime::Error::new(LimitTrap(Limit::Workspace))),
        }
    }

    /// Counts `bytes` less (the folder gave them back), once measured.
    fn credit(&self, bytes: u64) {
        if let Some(used) = self.lock().as_mut() {
            *used = used.saturating_sub(bytes);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        // A panic while holding it left a plain number behind.
        self.used.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What `root` holds as the quota counts it: each file's length and
/// [`ENTRY_BYTES`] per entry, links not followed. Stops counting once past
/// `stop`, so a huge folder costs no more than the cap allows.
pub(crate) fn folder_bytes(root: &Path, stop: u64) -> u64 {
    let mut total: u64 = 0;
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            total = total.saturating_add(ENTRY_BYTES);
            match entry.metadata() {
                Ok(metadata) if metadata.is_dir() => folders.push(entry.path()),
                Ok(metadata) => total = total.saturating_add(metadata.len()),
                Err(_) => {}
            }
            if total > stop {
                return total;
            }
        }
    }
    total
}

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
}

impl StoreState {
    fn workspace_fs(&mut self) -> WorkspaceFsView<'_> {
        let quota = self.surroundings.quota.clone();
        WorkspaceFsView { fs: self.filesystem(), quota }
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

    /// What removing `path` gives back: its entry, and its bytes unless
    /// another link keeps them.
    async fn freed_by_removing(&mut self, fd: &Resource<types::Descriptor>, path: &str) -> u64 {
        let Ok(stat) = self.fs.stat_at(again(fd), PathFlags::empty(), path.to_string()).await else { return 0 };
        match stat.type_ {
            DescriptorType::RegularFile if stat.link_count <= 1 => ENTRY_BYTES + stat.size,
            _ => ENTRY_BYTES,
        }
    }

    /// The file's length now.
    async fn length(&mut self, fd: &Resource<types::Descriptor>) -> FsResult<u64> {
        Ok(self.fs.stat(again(fd)).await?.size)
    }

    /// Puts `stream`, which writes to `file`, back in the table as a
    /// [`QuotaStream`] writing from `position` (the end, appending).
    fn wrap(
        &mut self,
        stream: Resource<DynOutputStream>,
        file: Option<Arc<std::fs::File>>,
        position: Option<u64>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let (Some(quota), Some(file)) = (self.quota.clone(), file) else { return Ok(stream) };
        let inner = self.fs.table.delete(stream)?;
        let wrapped: DynOutputStream = Box::new(QuotaStream { inner, quota, file, position });
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
        if self.quota.is_some() {
            self.measure().await;
            let length = self.length(&fd).await?;
            self.charge(size.saturating_sub(length))?;
            self.fs.set_size(fd, size).await?;
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
        if self.quota.is_some() {
            self.measure().await;
            let length = self.length(&fd).await?;
            let end = offset.saturating_add(buffer.len() as u64);
            self.charge(end.saturating_sub(length))?;
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
        self.fs.create_directory_at(fd, path).await
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
        self.fs.link_at(fd, old_path_flags, old_path, new_descriptor, new_path).await
    }

    async fn symlink_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        self.measure().await;
        self.charge(ENTRY_BYTES)?;
        self.fs.symlink_at(fd, src_path, dest_path).await
    }

    async fn open_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Resource<types::Descriptor>> {
        let writes =
            oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE) || flags.contains(DescriptorFlags::WRITE);
        if self.quota.is_some() && writes {
            // Measured here, on a blocking thread, so that the streams the
            // file gives charge without walking the folder.
            self.measure().await;
            let existing = self.fs.stat_at(again(&fd), path_flags, path.clone()).await.ok();
            if oflags.contains(OpenFlags::CREATE) && existing.is_none() {
                self.charge(ENTRY_BYTES)?;
            }
            let truncated = match existing {
                Some(stat) if oflags.contains(OpenFlags::TRUNCATE) && stat.type_ == DescriptorType::RegularFile => {
                    stat.size
                }
                _ => 0,
            };
            let opened = self.fs.open_at(fd, path_flags, path, oflags, flags).await?;
            self.credit(truncated);
            return Ok(opened);
        }
        self.fs.open_at(fd, path_flags, path, oflags, flags).await
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
        self.fs.read_directory(fd).await
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
        if self.quota.is_none() {
            return self.fs.unlink_file_at(fd, path).await;
        }
        let freed = self.freed_by_removing(&fd, &path).await;
        self.fs.unlink_file_at(fd, path).await?;
        self.credit(freed);
        Ok(())
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<DynInputStream>> {
        self.fs.read_via_stream(fd, offset)
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
        HostDirectoryEntryStream::drop(&mut self.fs, stream)
    }
}

/// A file's output stream that charges the bytes it writes past the
/// file's end.
struct QuotaStream {
    inner: DynOutputStream,
    quota: Arc<WorkspaceQuota>,
    file: Arc<std::fs::File>,
    /// Where the next write lands; `None` appends.
    position: Option<u64>,
}

impl QuotaStream {
    fn charge(&mut self, bytes: usize) -> StreamResult<()> {
        // The length now, not when the stream was made: the file may have
        // been truncated since, and the truncation credited. (A write
        // still in flight counts twice: safe.) One `fstat`.
        let length = self.file.metadata().map_or(0, |metadata| metadata.len());
        let start = self.position.unwrap_or(length);
        let end = start.saturating_add(bytes as u64);
        self.quota.charge(end.saturating_sub(length)).map_err(StreamError::Trap)?;
        if let Some(position) = &mut self.position {
            *position = end;
        }
        Ok(())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for QuotaStream {
    async fn ready(&mut self) {
        self.inner.ready().await;
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for QuotaStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.blocking_write_and_flush(bytes).await
    }

    fn write_zeroes(&mut self, count: usize) -> StreamResult<()> {
        self.charge(count)?;
        self.inner.write_zeroes(count)
    }

    async fn write_ready(&mut self) -> StreamResult<usize> {
        self.inner.write_ready().await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_counts_its_files_and_entries_and_stops_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.txt"), vec![0u8; 1000]).unwrap();
        std::fs::write(dir.path().join("sub/b.txt"), vec![0u8; 24]).unwrap();
        assert_eq!(folder_bytes(dir.path(), u64::MAX), 3 * ENTRY_BYTES + 1024);
        assert!(folder_bytes(dir.path(), 10) > 10);
    }

    #[test]
    fn a_charge_past_the_cap_traps_with_the_workspace_limit_and_counts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let quota = WorkspaceQuota::new(dir.path().to_path_buf(), 10_000);
        quota.charge(6_000).unwrap();
        let error = quota.charge(5_000).unwrap_err();
        assert!(matches!(error.downcast_ref::<LimitTrap>(), Some(LimitTrap(Limit::Workspace))));
        quota.charge(4_000).unwrap();
        assert!(quota.charge(1).is_err());
    }
}
