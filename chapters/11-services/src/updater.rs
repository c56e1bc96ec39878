//! The rolling update: when a service's TaskTemplate changes, its slots
//! are "dirty" (their task was made from another template). They are
//! replaced `parallelism` at a time, with `delay` between batches: the
//! old task shut down first and the new one started once it has stopped
//! (stop-first), or the new one started first and the old stopped once
//! the new runs (start-first).

use std::time::SystemTime;

use crate::orchestrator::{current_template, new_task, runnable_slots, set_desired};
use crate::spec;
use crate::state::TaskState;
use crate::store::{now_text, Store, Update};

/// Begin an update of `service` (its spec just changed).
pub fn begin(store: &mut Store, service: &str) {
    let update = Update {
        state: "updating".into(),
        started_at: now_text(),
        completed_at: None,
        message: "update in progress".into(),
        batch: Vec::new(),
        replaced: Vec::new(),
        next_batch_at: None,
    };
    store.services.get_mut(service).expect("the caller's").update = Some(update);
}

/// Slots whose runnable task was made from another template.
pub fn dirty_slots(store: &Store, service: &str) -> Vec<u64> {
    let Some(template) = current_template(store, service) else { return Vec::new() };
    let slots = runnable_slots(store, service);
    slots
        .into_iter()
        .filter(|(_, tasks)| tasks.iter().all(|id| store.tasks[id].spec != template))
        .map(|(slot, _)| slot)
        .collect()
}

// ANCHOR: step
/// One step of an update in progress: wait for the batch to run and the
/// delay to pass, then replace the next `parallelism` dirty slots.
pub fn step(store: &mut Store, service: &str, now: SystemTime) {
    let Some(update) = store.services[service].update.clone() else { return };
    if update.state != "updating" {
        return;
    }
    let config = spec::update_config(&store.services[service].spec);
    if !update.batch.is_empty() {
        match batch_outcome(store, &update.batch) {
            Outcome::Waiting => return,
            Outcome::Failed(task) if config.pause_on_failure => {
                return pause(store, service, &task)
            }
            _ => finish_batch(store, service, &update, now + config.delay),
        }
        return;
    }
    if update.next_batch_at.is_some_and(|at| at > now) {
        return;
    }
    let dirty = dirty_slots(store, service);
    if dirty.is_empty() {
        return complete(store, service);
    }
    let n = if config.parallelism == 0 { dirty.len() } else { config.parallelism as usize };
    let batch = dirty.into_iter().take(n).collect::<Vec<_>>();
    replace_slots(store, service, &batch, config.start_first);
}
// ANCHOR_END: step

enum Outcome {
    Waiting,
    Running,
    Failed(String),
}

/// Has every new task of the batch reached running (or one failed)?
fn batch_outcome(store: &Store, batch: &[String]) -> Outcome {
    for id in batch {
        match store.tasks.get(id).map(|t| t.status.state) {
            Some(TaskState::Running) | None => {}
            Some(state) if state.is_terminal() => return Outcome::Failed(id.clone()),
            Some(_) => return Outcome::Waiting,
        }
    }
    Outcome::Running
}

// ANCHOR: replace
/// Replace the slots: a new task each from the current template; the
/// old one shut down now (stop-first) or once the new one runs.
fn replace_slots(store: &mut Store, service: &str, slots: &[u64], start_first: bool) {
    let template = current_template(store, service).expect("the service exists");
    let running = runnable_slots(store, service);
    let (mut batch, mut replaced) = (Vec::new(), Vec::new());
    for slot in slots {
        let old = running.get(slot).cloned().unwrap_or_default();
        let desired = if start_first { TaskState::Running } else { TaskState::Ready };
        batch.push(new_task(store, service, *slot, template.clone(), desired, None));
        for id in old {
            match start_first {
                true => replaced.push(id),
                false => set_desired(store, &id, TaskState::Shutdown),
            }
        }
    }
    let update = store.services.get_mut(service).unwrap().update.as_mut().unwrap();
    (update.batch, update.replaced, update.next_batch_at) = (batch, replaced, None);
}
// ANCHOR_END: replace

fn finish_batch(store: &mut Store, service: &str, update: &Update, next: SystemTime) {
    for id in &update.replaced {
        set_desired(store, id, TaskState::Shutdown);
    }
    let update = store.services.get_mut(service).unwrap().update.as_mut().unwrap();
    (update.batch, update.replaced, update.next_batch_at) = (Vec::new(), Vec::new(), Some(next));
    let mut meta = store.services[service].meta.clone();
    store.touch(&mut meta);
    store.services.get_mut(service).unwrap().meta = meta;
}

fn complete(store: &mut Store, service: &str) {
    let update = store.services.get_mut(service).unwrap().update.as_mut().unwrap();
    update.state = "completed".into();
    update.completed_at = Some(now_text());
    update.message = "update completed".into();
}

fn pause(store: &mut Store, service: &str, task: &str) {
    let update = store.services.get_mut(service).unwrap().update.as_mut().unwrap();
    update.state = "paused".into();
    update.message = format!("update paused due to failure or early termination of task {task}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::{
        reconcile,
        tests::{run_all, swarm},
    };
    use serde_json::json;
    use std::time::Duration;

    fn change_image(store: &mut Store, parallelism: u64, delay_secs: u64) {
        let service = store.services.get_mut("s").unwrap();
        service.spec["TaskTemplate"]["ContainerSpec"]["Image"] = json!("busybox:2");
        service.spec["UpdateConfig"] =
            json!({"Parallelism": parallelism, "Delay": delay_secs * 1_000_000_000});
        begin(store, "s");
    }

    /// One manager tick: orchestrator, updater, pretend the workers ran
    /// what they were told and stopped what they were asked to stop.
    fn tick(store: &mut Store, now: SystemTime) {
        reconcile(store, "s", now);
        step(store, "s", now);
        reconcile(store, "s", now);
        run_all(store);
        for task in store.tasks.values_mut().filter(|t| t.desired == TaskState::Shutdown) {
            task.status.state = TaskState::Shutdown;
        }
    }

    fn updated(store: &Store) -> usize {
        let template = current_template(store, "s").unwrap();
        store
            .tasks
            .values()
            .filter(|t| t.spec == template && t.status.state == TaskState::Running)
            .count()
    }

    #[test]
    fn slots_are_replaced_parallelism_at_a_time_with_the_delay_between() {
        let mut store = swarm(2, 4);
        let t0 = SystemTime::now();
        tick(&mut store, t0);
        change_image(&mut store, 2, 10);
        assert_eq!(dirty_slots(&store, "s"), vec![1, 2, 3, 4]);
        tick(&mut store, t0); // batch 1 starts: old ones shut down first
        tick(&mut store, t0); // their replacements run
        assert_eq!(updated(&store), 2);
        tick(&mut store, t0); // the batch is done: the delay begins
        tick(&mut store, t0 + Duration::from_secs(5));
        assert_eq!(updated(&store), 2, "still within the delay");
        tick(&mut store, t0 + Duration::from_secs(11));
        tick(&mut store, t0 + Duration::from_secs(11));
        assert_eq!(updated(&store), 4);
        tick(&mut store, t0 + Duration::from_secs(11));
        tick(&mut store, t0 + Duration::from_secs(22));
        assert_eq!(store.services["s"].update.as_ref().unwrap().state, "completed");
        let runnable = store.tasks.values().filter(|t| t.desired <= TaskState::Running).count();
        assert_eq!(runnable, 4, "one task per slot at the end");
    }

    #[test]
    fn a_manager_restarted_mid_update_carries_on() {
        let mut store = swarm(2, 4);
        let t0 = SystemTime::now();
        tick(&mut store, t0);
        change_image(&mut store, 1, 0);
        tick(&mut store, t0);
        tick(&mut store, t0);
        assert_eq!(updated(&store), 1, "one slot done before the restart");
        let saved = serde_json::to_vec(&store).unwrap();
        let mut store: Store = serde_json::from_slice(&saved).unwrap();
        for n in 1..20 {
            tick(&mut store, t0 + Duration::from_secs(n));
        }
        assert_eq!(updated(&store), 4);
        assert_eq!(store.services["s"].update.as_ref().unwrap().state, "completed");
    }

    #[test]
    fn a_failed_new_task_pauses_the_update() {
        let mut store = swarm(1, 2);
        let now = SystemTime::now();
        tick(&mut store, now);
        change_image(&mut store, 1, 0);
        reconcile(&mut store, "s", now);
        step(&mut store, "s", now);
        let batch = store.services["s"].update.as_ref().unwrap().batch.clone();
        store.tasks.get_mut(&batch[0]).unwrap().status.state = TaskState::Rejected;
        step(&mut store, "s", now);
        let update = store.services["s"].update.as_ref().unwrap();
        assert_eq!(update.state, "paused");
        assert!(update.message.contains(&batch[0]));
    }
}
