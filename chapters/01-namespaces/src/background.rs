//! Parent work that runs beside the rest of the start, on threads of its own.
//!
//! Some of what the parent does to the child only has to be done before the
//! child execs, and spends its time waiting on the kernel, not computing:
//! the parent's first move of a process into a cgroup waits for an RCU
//! grace period (several milliseconds, see chapter 2), during which the
//! parent's other hooks and the child's own setup can go on. Such work is a
//! [`BackgroundHook`]: it starts on a thread as soon as the child exists,
//! and the child waits for it with a second byte on the sync pipe, right
//! before exec.

use std::thread::JoinHandle;

use nix::unistd::Pid;

use crate::explain;
use crate::spawn::SpawnError;

// ANCHOR: background_hook
/// Work the parent does on the child beside everything else: it gets the
/// child's pid and must be done before the child execs. Chapter 2 joins
/// the cgroup this way. It runs on a thread, so it must be `Send`.
pub struct BackgroundHook {
    pub name: String,
    pub run: Box<dyn FnOnce(Pid) -> anyhow::Result<()> + Send>,
}
// ANCHOR_END: background_hook

impl BackgroundHook {
    pub fn new(
        name: impl Into<String>,
        run: impl FnOnce(Pid) -> anyhow::Result<()> + Send + 'static,
    ) -> Self {
        BackgroundHook { name: name.into(), run: Box::new(run) }
    }
}

/// The background hooks of one spawn, running or already done.
pub(crate) struct Background {
    running: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
    failure: Option<SpawnError>,
}

// ANCHOR: background_start
impl Background {
    /// Start every hook on a thread of its own. With `--explain` they run
    /// here, one after the other, so that the narration stays in order.
    pub(crate) fn start(hooks: Vec<BackgroundHook>, child: Pid) -> Background {
        let mut background = Background { running: Vec::new(), failure: None };
        for hook in hooks {
            if explain::enabled() || explain::capturing() {
                background.run_here(hook, child);
                continue;
            }
            let BackgroundHook { name, run } = hook;
            match std::thread::Builder::new().spawn(move || run(child)) {
                Ok(thread) => background.running.push((name, thread)),
                Err(e) => background.failed(name, anyhow::anyhow!("starting a thread: {e}")),
            }
        }
        background
    }
    // ANCHOR_END: background_start

    fn run_here(&mut self, hook: BackgroundHook, child: Pid) {
        if let Err(error) = (hook.run)(child) {
            self.failed(hook.name, error);
        }
    }

    /// Keep the first failure: the one that explains the others.
    fn failed(&mut self, name: String, error: anyhow::Error) {
        self.failure.get_or_insert(SpawnError::ParentHook { name, error });
    }

    /// Wait for every hook; the first failure, if any. Safe to call twice.
    pub(crate) fn finish(&mut self) -> Result<(), SpawnError> {
        for (name, thread) in std::mem::take(&mut self.running) {
            let result = thread.join().unwrap_or_else(|_| Err(anyhow::anyhow!("it panicked")));
            if let Err(error) = result {
                self.failed(name, error);
            }
        }
        self.failure.take().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn every_hook_runs_with_the_childs_pid() {
        let seen = Arc::new(AtomicUsize::new(0));
        let hooks = (0..3)
            .map(|_| {
                let seen = seen.clone();
                BackgroundHook::new("count", move |pid| {
                    seen.fetch_add(pid.as_raw() as usize, Ordering::SeqCst);
                    Ok(())
                })
            })
            .collect();
        let mut background = Background::start(hooks, Pid::from_raw(7));
        assert!(background.finish().is_ok());
        assert_eq!(seen.load(Ordering::SeqCst), 21);
    }

    #[test]
    fn a_failure_is_reported_with_the_hooks_name_once() {
        let hooks = vec![
            BackgroundHook::new("fine", |_| Ok(())),
            BackgroundHook::new("joining the cgroup", |_| anyhow::bail!("no such process")),
        ];
        let mut background = Background::start(hooks, Pid::from_raw(1));
        let failure = background.finish().unwrap_err();
        assert_eq!(failure.to_string(), "joining the cgroup: no such process");
        assert!(background.finish().is_ok(), "a second finish has nothing left to report");
    }

    #[test]
    fn a_panicking_hook_is_a_failure_not_a_panic() {
        let hooks = vec![BackgroundHook::new("boom", |_| panic!("inside the hook"))];
        let mut background = Background::start(hooks, Pid::from_raw(1));
        assert_eq!(background.finish().unwrap_err().to_string(), "boom: it panicked");
    }
}
