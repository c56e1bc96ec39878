//! Waiting for a container to change without polling: the kernel says when.
//! `inotify(7)` watches the store (a removal renames the container's
//! directory to `.removing-<id>`, then deletes it) and the container's own
//! directory (chapter 5's store replaces `state.json` by a rename on every
//! write); a pidfd (`pidfd_open(2)`) becomes readable when the supervisor
//! dies. Whoever makes the change — this daemon, `mini-docker` in-process
//! on the same root, the daemon before a restart — the kernel sees it.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use ch05_run::store::Store;
use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use tokio::io::unix::AsyncFd;

/// One container's changes, from the moment it is made: nothing that
/// happens between a look at the state and the wait that follows is missed.
pub struct Changes {
    watched: Option<AsyncFd<Watched>>,
    /// A supervisor already seen to exit: its state may say "running" until
    /// init reaps it, and only a look then repairs it (see [`Changes::next`]).
    dead_supervisor: Option<i32>,
}

struct Watched {
    inotify: Inotify,
    store: WatchDescriptor,
    dir: Option<WatchDescriptor>,
    /// The names in the store that are this container: `<id>`, `.removing-<id>`.
    names: [OsString; 2],
}

impl AsRawFd for Watched {
    fn as_raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }
}

/// How long to wait between looks when the kernel cannot tell us (no
/// inotify instance left, or a dead supervisor not yet reaped).
const LOOK_AGAIN: Duration = Duration::from_millis(5);

// ANCHOR: changes
impl Changes {
    /// Watch container `id` of `store` (no error: without inotify, the
    /// waits are timed instead).
    pub fn watch(store: &Store, id: &str) -> Changes {
        // SAFETY: the inotify descriptor is owned by `Watched`, open until it drops.
        let watched = watched(store, id).and_then(|w| unsafe { AsyncFd::register(w) }.ok());
        Changes { watched, dead_supervisor: None }
    }

    /// Until something may have changed: the container's state was
    /// rewritten, it left the store or was deleted, or `supervisor` died.
    pub async fn next(&mut self, supervisor: Option<i32>) {
        let supervisor = supervisor.filter(|pid| Some(*pid) != self.dead_supervisor);
        let exited = match supervisor.map(pidfd) {
            Some(Err(pid)) => {
                self.dead_supervisor = Some(pid); // gone already: look now
                return;
            }
            Some(Ok(pidfd)) => pidfd,
            None => None,
        };
        let Some(watched) = &self.watched else { return tokio::time::sleep(LOOK_AGAIN).await };
        let unreaped = self.dead_supervisor.is_some();
        tokio::select! {
            _ = relevant_event(watched) => {}
            Some(pid) = supervisor_exit(exited) => self.dead_supervisor = Some(pid),
            _ = tokio::time::sleep(LOOK_AGAIN), if unreaped => {}
        }
    }
}
// ANCHOR_END: changes

// ANCHOR: close
impl Drop for Changes {
    /// The kernel surprises here: closing an inotify instance that holds a
    /// watch waits for an RCU grace period (its marks are freed after
    /// `synchronize_srcu`), 10–15 ms. So the close happens on a blocking
    /// thread, not on a worker of the runtime, and not before the answer.
    fn drop(&mut self) {
        if let Some(watched) = self.watched.take() {
            close_off_the_runtime(watched);
        }
    }
}

/// Drop `watched` (an inotify instance) on a blocking thread when there
/// is a runtime, here otherwise.
pub(crate) fn close_off_the_runtime(watched: impl Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(watched))),
        Err(_) => drop(watched),
    }
}
// ANCHOR_END: close

fn watched(store: &Store, id: &str) -> Option<Watched> {
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
    let dir = store.container_dir(id);
    let parent = dir.parent()?;
    let gone = AddWatchFlags::IN_MOVED_FROM | AddWatchFlags::IN_DELETE;
    let store = inotify.add_watch(parent, gone | AddWatchFlags::IN_ONLYDIR).ok()?;
    // Absent already (removed): the store's watch is enough.
    let replaced = AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE;
    let dir = inotify.add_watch(&dir, replaced | AddWatchFlags::IN_DELETE_SELF).ok();
    let names = [id.into(), format!(".removing-{id}").into()];
    Some(Watched { inotify, store, dir, names })
}

impl Watched {
    /// Is `event` about this container's state or its place in the store?
    fn is_relevant(&self, event: &InotifyEvent) -> bool {
        let name = event.name.as_deref();
        if event.wd == self.store {
            return name.is_some_and(|n| self.names.iter().any(|ours| ours.as_os_str() == n));
        }
        let dir_gone = AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_IGNORED;
        Some(event.wd) == self.dir
            && (event.mask.intersects(dir_gone) || name == Some(OsStr::new("state.json")))
    }
}

/// Until an event about the container arrives (others are read and dropped).
async fn relevant_event(watched: &AsyncFd<Watched>) {
    loop {
        let Ok(mut ready) = watched.readable().await else { return };
        match ready.get_inner().inotify.read_events() {
            Ok(events) if events.iter().any(|e| ready.get_inner().is_relevant(e)) => return,
            Ok(_) => {}
            Err(Errno::EAGAIN) => ready.clear_ready(),
            Err(_) => return tokio::time::sleep(LOOK_AGAIN).await,
        }
    }
}

/// A pidfd for `pid`, to learn when it exits; `Err(pid)` if it is gone
/// already. (Without pidfds — Linux before 5.3 — nothing is watched.)
fn pidfd(pid: i32) -> Result<Option<(i32, AsyncFd<OwnedFd>)>, i32> {
    // SAFETY: pidfd_open takes a pid and flags, and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return match Errno::last() {
            Errno::ESRCH => Err(pid),
            _ => Ok(None),
        };
    }
    // SAFETY: the descriptor was just made, and is ours alone.
    let owned = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // SAFETY: `owned` stays open for as long as the AsyncFd holds it.
    Ok(unsafe { AsyncFd::register(owned) }.ok().map(|fd| (pid, fd)))
}

/// Until the pidfd's process exits (it becomes readable then); never
/// without one.
async fn supervisor_exit(pidfd: Option<(i32, AsyncFd<OwnedFd>)>) -> Option<i32> {
    let Some((pid, fd)) = pidfd else { return std::future::pending().await };
    let _ = fd.readable().await;
    Some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(id: &str) -> (tempfile::TempDir, Store) {
        let root = tempfile::tempdir().unwrap();
        let store = Store::new(root.path());
        std::fs::create_dir_all(store.container_dir(id)).unwrap();
        (root, store)
    }

    /// `next` has returned, or is still waiting.
    async fn woke(changes: &mut Changes, supervisor: Option<i32>) -> bool {
        tokio::time::timeout(Duration::from_secs(10), changes.next(supervisor)).await.is_ok()
    }

    #[tokio::test]
    async fn a_state_written_by_rename_wakes_the_waiter() {
        let (_root, store) = store_with("abc");
        let mut changes = Changes::watch(&store, "abc");
        let dir = store.container_dir("abc");
        std::fs::write(dir.join("lifecycle.json"), "{}").unwrap(); // not the state: ignored
        std::fs::write(dir.join("state.tmp"), "{}").unwrap();
        std::fs::rename(dir.join("state.tmp"), dir.join("state.json")).unwrap();
        assert!(woke(&mut changes, None).await);
    }

    #[tokio::test]
    async fn a_removal_wakes_the_waiter_twice() {
        let (_root, store) = store_with("abc");
        std::fs::create_dir(store.container_dir("other")).unwrap();
        let mut changes = Changes::watch(&store, "abc");
        std::fs::remove_dir(store.container_dir("other")).unwrap(); // another container: ignored
        let retired = store.retire("abc").unwrap().unwrap();
        assert!(woke(&mut changes, None).await, "renamed to .removing-abc");
        std::fs::remove_dir(retired).unwrap();
        assert!(woke(&mut changes, None).await, "deleted");
    }

    #[tokio::test]
    async fn the_supervisors_exit_wakes_the_waiter() {
        let (_root, store) = store_with("abc");
        let mut changes = Changes::watch(&store, "abc");
        let mut child = std::process::Command::new("sh")
            .args(["-c", "read x"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        drop(child.stdin.take()); // it reads end of file and exits
        assert!(woke(&mut changes, Some(pid)).await);
        child.wait().unwrap();
        assert!(woke(&mut changes, Some(pid)).await, "reaped: looked at again, not waited on");
    }
}
