//! The caps on what code does with its workspace folder: what the folder
//! may hold (`workspace_bytes`) and how many files code may hold open.
//!
//! WASI's `wasi:filesystem/types` is linked through [`fs::WorkspaceFs`],
//! which hands every call but file output streams' writes to
//! wasmtime-wasi's own implementation and,
//! before an operation that can make the folder hold more, charges the
//! growth: bytes past a file's end (by `write`, by a stream, by
//! `set-size`) and [`ENTRY_BYTES`] for each new file, folder or link.
//! Truncating gives its bytes back, so code may rewrite a file as often as
//! it likes; removing gives back the entry only (an open file keeps its
//! bytes on disk, and so does a file with another link), and the bytes
//! come back when the folder is next measured. A charge past the cap traps
//! with the `workspace` limit.
//!
//! The count is shared by every execution running in one folder, and the
//! folder is measured afresh when an execution starts writing there while
//! no other runs. An operation that reads a file's length and then changes
//! it holds the folder's [`Folder::resizing`] lock, so that a truncation
//! never falls between another operation's look at the length and its
//! write: each byte is charged or given back once.

mod fs;

pub(crate) use fs::add_to_linker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use super::traps::LimitTrap;
use crate::limits::Limit;

/// What a new file, folder or link costs against the cap: about the block
/// a filesystem gives it, so that code cannot exhaust inodes with empty
/// files.
pub(crate) const ENTRY_BYTES: u64 = 4096;

/// The most files, folders and streams over them one execution may hold
/// open: each holds a file handle of the host process.
pub const MAX_OPEN_FILES: usize = 256;

/// Folders deeper than this are not measured: the folder counts as full.
const MAX_DEPTH: usize = 64;

/// One workspace folder's count, shared by the executions running there.
struct Folder {
    root: PathBuf,
    state: Mutex<Usage>,
    /// Shared by operations that grow a file past the length they read,
    /// taken alone by those that truncate one.
    resizing: Arc<RwLock<()>>,
}

struct Usage {
    /// What the folder holds as counted; `None` until measured.
    used: Option<u64>,
    /// The cap the measuring walk stopped past, when it stopped early: an
    /// execution with a larger cap measures again. Meanwhile nothing is
    /// given back: the walk did not count what is freed.
    partial: Option<u64>,
    /// Every byte charged so far: what was charged while a walk ran is
    /// added to its count (a walk that saw those bytes counts them twice,
    /// which is safe).
    charged: u64,
    /// Executions running in the folder now.
    running: usize,
}

impl Usage {
    /// Whether an execution capped at `cap` must measure the folder first.
    fn unmeasured_for(&self, cap: u64) -> bool {
        self.used.is_none() || self.partial.is_some_and(|stop| cap > stop)
    }

    /// Takes the count of a walk that stopped past `stop`, begun when
    /// [`Usage::charged`] was `charged_before`.
    fn measured(&mut self, bytes: u64, stop: u64, charged_before: u64) {
        self.used = Some(bytes.saturating_add(self.charged - charged_before));
        self.partial = (bytes > stop).then_some(stop);
    }
}

impl Drop for Folder {
    /// The last execution in the folder ended: its entry goes, unless a
    /// new execution there has already put a live one in its place.
    fn drop(&mut self) {
        let mut folders = lock(&FOLDERS);
        if folders.get(&self.root).is_some_and(|folder| folder.strong_count() == 0) {
            folders.remove(&self.root);
        }
    }
}

/// The folders executions run in now, by path.
static FOLDERS: LazyLock<Mutex<HashMap<PathBuf, Weak<Folder>>>> = LazyLock::new(Mutex::default);

/// A lock that a panic elsewhere cannot poison: the guarded numbers stay
/// meaningful.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One execution's share of its workspace folder: the cap it runs under,
/// and the files it holds open.
pub(crate) struct WorkspaceQuota {
    folder: Arc<Folder>,
    cap: u64,
    /// Files, folders and streams open now, in every store of the
    /// execution.
    open: Arc<AtomicUsize>,
    /// Whether the execution has left the folder's count.
    left: AtomicBool,
}

impl WorkspaceQuota {
    /// Joins the count of the folder `root` with a cap of `cap` bytes.
    pub(crate) fn join(root: &Path, cap: u64) -> Self {
        let key = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let folder = {
            let mut folders = lock(&FOLDERS);
            match folders.get(&key).and_then(Weak::upgrade) {
                Some(folder) => folder,
                None => {
                    let state = Mutex::new(Usage { used: None, partial: None, charged: 0, running: 0 });
                    // The resolved path: measured as WASI opens it, through
                    // a symlinked folder too.
                    let folder = Arc::new(Folder { root: key.clone(), state, resizing: Arc::default() });
                    folders.insert(key, Arc::downgrade(&folder));
                    folder
                }
            }
        };
        {
            let mut usage = lock(&folder.state);
            if usage.running == 0 {
                // Nothing writes there now: what was removed since the
                // last count is given back by measuring again.
                usage.used = None;
                usage.partial = None;
            }
            usage.running += 1;
        }
        WorkspaceQuota { folder, cap, open: Arc::default(), left: AtomicBool::new(false) }
    }

    /// The workspace folder.
    pub(crate) fn root(&self) -> &Path {
        &self.folder.root
    }

    /// Measures the folder, off the async worker, unless that was done.
    async fn measure(&self) {
        let charged_before = {
            let usage = lock(&self.folder.state);
            if !usage.unmeasured_for(self.cap) {
                return;
            }
            usage.charged
        };
        let (root, cap) = (self.folder.root.clone(), self.cap);
        // A runtime shutting down cannot measure on a blocking thread;
        // `charge` then measures where it is.
        if let Ok(measured) = tokio::task::spawn_blocking(move || folder_bytes(&root, cap)).await {
            let mut usage = lock(&self.folder.state);
            if usage.unmeasured_for(cap) {
                usage.measured(measured, cap, charged_before);
            }
        }
    }

    /// Held while an operation reads a file's length and writes past it:
    /// no truncation comes between.
    async fn growing(&self) -> OwnedRwLockReadGuard<()> {
        self.folder.resizing.clone().read_owned().await
    }

    /// Held while an operation reads a file's length and truncates it:
    /// nothing else resizes a file of the folder meanwhile.
    async fn shrinking(&self) -> OwnedRwLockWriteGuard<()> {
        self.folder.resizing.clone().write_owned().await
    }

    /// Counts `bytes` more, or traps with the `workspace` limit when that
    /// would pass the cap (nothing is counted then).
    fn charge(&self, bytes: u64) -> wasmtime::Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        let mut usage = lock(&self.folder.state);
        if usage.unmeasured_for(self.cap) {
            // Under the lock: no charge comes meanwhile.
            let charged = usage.charged;
            usage.measured(folder_bytes(&self.folder.root, self.cap), self.cap, charged);
        }
        let used = usage.used.get_or_insert(0);
        match used.checked_add(bytes).filter(|&next| next <= self.cap) {
            Some(next) => {
                *used = next;
                usage.charged = usage.charged.saturating_add(bytes);
                Ok(())
            }
            None => Err(wasmtime::Error::new(LimitTrap(Limit::Workspace))),
        }
    }

    /// Counts `bytes` less (the folder gave them back), once measured by a
    /// walk that counted everything.
    fn credit(&self, bytes: u64) {
        let mut usage = lock(&self.folder.state);
        if usage.partial.is_none()
            && let Some(used) = usage.used.as_mut()
        {
            *used = used.saturating_sub(bytes);
        }
    }

    /// One more open file, or a trap with the `open-files` limit when the
    /// execution holds [`MAX_OPEN_FILES`] already.
    fn open_file(&self) -> wasmtime::Result<OpenFile> {
        let taken = self
            .open
            .try_update(Ordering::SeqCst, Ordering::SeqCst, |open| (open < MAX_OPEN_FILES).then_some(open + 1));
        match taken {
            Ok(_) => Ok(OpenFile(self.open.clone())),
            Err(_) => Err(wasmtime::Error::new(LimitTrap(Limit::OpenFiles))),
        }
    }

    /// One more stream over a file already open: counted, never refused
    /// (it outlives its file's descriptor, holding the handle).
    fn open_stream(&self) -> OpenFile {
        self.open.fetch_add(1, Ordering::SeqCst);
        OpenFile(self.open.clone())
    }
}

impl WorkspaceQuota {
    /// The execution is over: it no longer counts among those running in
    /// the folder (its store may live on a while, being released), so the
    /// next one may measure afresh. Once only; dropping does it too.
    pub(crate) fn leave(&self) {
        if !self.left.swap(true, Ordering::SeqCst) {
            let mut usage = lock(&self.folder.state);
            usage.running = usage.running.saturating_sub(1);
        }
    }
}

impl Drop for WorkspaceQuota {
    fn drop(&mut self) {
        self.leave();
    }
}

/// A file, folder or stream the execution holds open; closing it (dropping
/// this) counts it out.
pub(crate) struct OpenFile(Arc<AtomicUsize>);

/// The descriptors and folder listings one store holds open, by resource
/// number (numbers are per store: a component skill has its own). Dropped
/// with the store, which counts them out.
#[derive(Clone, Default)]
pub(crate) struct HeldFiles(Arc<Mutex<HashMap<u32, OpenFile>>>);

impl HeldFiles {
    /// Keeps `file` counted as long as the resource `rep` is open.
    fn hold(&self, rep: u32, file: OpenFile) {
        lock(&self.0).insert(rep, file);
    }

    /// The resource `rep` was closed.
    fn release(&self, rep: u32) {
        lock(&self.0).remove(&rep);
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What `root` holds as the quota counts it: each file's length and
/// [`ENTRY_BYTES`] per entry, links not followed. Folders are read
/// relative to their parent's handle, so no path length limits the walk.
/// Stops counting once past `stop`; a folder nested deeper than
/// [`MAX_DEPTH`] makes the whole count `u64::MAX`.
pub(crate) fn folder_bytes(root: &Path, stop: u64) -> u64 {
    use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags, openat, statat};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // The root as the host names it (a link to it is followed, as WASI
    // does); the links inside are not.
    let Ok(handle) = openat(CWD, root, flags - OFlags::NOFOLLOW, Mode::empty()) else { return 0 };
    let Ok(reader) = Dir::read_from(&handle) else { return 0 };
    let mut total: u64 = 0;
    let mut open = vec![(handle, reader)];
    while let Some((folder, reader)) = open.last_mut() {
        let entry = match reader.read() {
            Some(Ok(entry)) => entry,
            // The end of the folder, or one that cannot be read.
            _ => {
                open.pop();
                continue;
            }
        };
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        total = total.saturating_add(ENTRY_BYTES);
        let mut inner = None;
        match statat(&*folder, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {
                inner = openat(&*folder, name, flags, Mode::empty()).ok();
            }
            Ok(stat) => total = total.saturating_add(u64::try_from(stat.st_size).unwrap_or(0)),
            Err(_) => {}
        }
        if let Some(handle) = inner {
            if open.len() >= MAX_DEPTH {
                return u64::MAX;
            }
            if let Ok(reader) = Dir::read_from(&handle) {
                open.push((handle, reader));
            }
        }
        if total > stop {
            return total;
        }
    }
    total
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
    fn folders_past_the_path_length_limit_are_counted_and_too_deep_ones_count_as_full() {
        let dir = tempfile::tempdir().unwrap();
        // 20 levels of 250-byte names: a path of 5000 bytes, past PATH_MAX.
        let name = "d".repeat(250);
        let mut path = dir.path().to_path_buf();
        let mut handle =
            rustix::fs::openat(rustix::fs::CWD, &path, rustix::fs::OFlags::DIRECTORY, rustix::fs::Mode::empty())
                .unwrap();
        for _ in 0..20 {
            rustix::fs::mkdirat(&handle, name.as_str(), rustix::fs::Mode::RWXU).unwrap();
            handle =
                rustix::fs::openat(&handle, name.as_str(), rustix::fs::OFlags::DIRECTORY, rustix::fs::Mode::empty())
                    .unwrap();
            path.push(&name);
        }
        let file = rustix::fs::openat(
            &handle,
            "deep.bin",
            rustix::fs::OFlags::CREATE | rustix::fs::OFlags::WRONLY,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        rustix::io::write(&file, &[7u8; 5000]).unwrap();
        assert!(std::fs::metadata(&path).is_err(), "the path is too long for the host's own calls");
        assert_eq!(folder_bytes(dir.path(), u64::MAX), 21 * ENTRY_BYTES + 5000);

        for _ in 0..MAX_DEPTH {
            rustix::fs::mkdirat(&handle, "x", rustix::fs::Mode::RWXU).unwrap();
            handle =
                rustix::fs::openat(&handle, "x", rustix::fs::OFlags::DIRECTORY, rustix::fs::Mode::empty()).unwrap();
        }
        assert_eq!(folder_bytes(dir.path(), u64::MAX), u64::MAX);
    }

    #[test]
    fn a_folder_reached_through_a_symlink_is_measured() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/a.txt"), vec![0u8; 1000]).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        assert_eq!(folder_bytes(&dir.path().join("link"), u64::MAX), ENTRY_BYTES + 1000);
        let quota = WorkspaceQuota::join(&dir.path().join("link"), ENTRY_BYTES + 1500);
        assert!(quota.charge(1000).is_err(), "the 1000 bytes already there count");
    }

    #[test]
    fn a_charge_past_the_cap_traps_with_the_workspace_limit_and_counts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let quota = WorkspaceQuota::join(dir.path(), 10_000);
        quota.charge(6_000).unwrap();
        let error = quota.charge(5_000).unwrap_err();
        assert!(matches!(error.downcast_ref::<LimitTrap>(), Some(LimitTrap(Limit::Workspace))));
        quota.charge(4_000).unwrap();
        assert!(quota.charge(1).is_err());
    }

    #[test]
    fn executions_running_in_one_folder_share_its_count_and_the_next_one_measures_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = WorkspaceQuota::join(dir.path(), 10_000);
        let second = WorkspaceQuota::join(dir.path(), 10_000);
        first.charge(6_000).unwrap();
        assert!(second.charge(6_000).is_err(), "the second sees the first's bytes");
        first.leave();
        second.leave();
        let measured = WorkspaceQuota::join(dir.path(), 10_000);
        measured.charge(9_000).unwrap();
        drop((first, second, measured));
        let key = std::fs::canonicalize(dir.path()).unwrap();
        assert!(!lock(&FOLDERS).contains_key(&key), "the last one out removes the folder's entry");
        // Nothing was written on disk: a new execution counts from zero.
        let third = WorkspaceQuota::join(dir.path(), 10_000);
        third.charge(9_000).unwrap();
    }

    #[test]
    fn an_execution_with_a_larger_cap_measures_past_where_a_smaller_one_stopped() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b", "c"] {
            std::fs::write(dir.path().join(name), vec![0u8; 10_000]).unwrap();
        }
        let small = WorkspaceQuota::join(dir.path(), 5_000);
        assert!(small.charge(1).is_err(), "the walk stops past 5,000 bytes");
        let large = WorkspaceQuota::join(dir.path(), 3 * (ENTRY_BYTES + 10_000) + 100);
        large.charge(100).unwrap();
        assert!(large.charge(1).is_err(), "all three files count, not where the first walk stopped");
    }

    #[test]
    fn charges_made_while_a_walk_ran_are_added_to_its_count_and_a_stopped_walk_takes_no_credit() {
        let mut usage = Usage { used: None, partial: None, charged: 500, running: 2 };
        // A walk began at 500 bytes charged; 300 more were charged before
        // it ended (files it may have passed already).
        usage.charged = 800;
        usage.measured(10_000, u64::MAX, 500);
        assert_eq!(usage.used, Some(10_300));
        assert!(!usage.unmeasured_for(u64::MAX));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![0u8; 10_000]).unwrap();
        let small = WorkspaceQuota::join(dir.path(), 5_000);
        assert!(small.charge(1).is_err());
        let before = lock(&small.folder.state).used;
        small.credit(10_000);
        assert_eq!(lock(&small.folder.state).used, before, "the walk stopped early: what it skipped is not given");
    }

    #[test]
    fn open_files_are_counted_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let quota = WorkspaceQuota::join(dir.path(), 10_000);
        let open: Vec<OpenFile> = (0..MAX_OPEN_FILES).map(|_| quota.open_file().unwrap()).collect();
        let error = quota.open_file().err().unwrap();
        assert!(matches!(error.downcast_ref::<LimitTrap>(), Some(LimitTrap(Limit::OpenFiles))));
        drop(open);
        quota.open_file().unwrap();
    }
}
