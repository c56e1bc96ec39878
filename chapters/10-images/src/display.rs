//! `docker push`'s progress: a bar per layer on a terminal, one line per
//! change of status otherwise (logs, CI, tests).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::push::{PushProgress, PushStatus};

pub enum PushDisplay {
    Bars { multi: MultiProgress, bars: HashMap<String, ProgressBar> },
    Lines { last: HashMap<String, String> },
}

impl PushDisplay {
    /// Bars when stdout is a terminal, lines otherwise.
    pub fn for_stdout() -> PushDisplay {
        if std::io::stdout().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            PushDisplay::Bars { multi, bars: HashMap::new() }
        } else {
            PushDisplay::Lines { last: HashMap::new() }
        }
    }

    pub fn show(&mut self, event: &PushProgress) {
        let word = status_word(&event.status);
        match self {
            PushDisplay::Lines { last } => {
                if last.get(&event.layer) != Some(&word) {
                    last.insert(event.layer.clone(), word.clone());
                    let _ = writeln!(std::io::stdout(), "{}: {word}", event.layer);
                }
            }
            PushDisplay::Bars { multi, bars } => {
                let bar = bars.entry(event.layer.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(0));
                    let template = "{prefix}: {msg:<24} {bar:40} {bytes}/{total_bytes}";
                    bar.set_style(
                        ProgressStyle::with_template(template)
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(event.layer.clone());
                    bar
                });
                bar.set_message(word);
                match event.status {
                    PushStatus::Pushing { done, total } => {
                        bar.set_length(total);
                        bar.set_position(done);
                    }
                    PushStatus::Preparing => bar.tick(),
                    _ => bar.finish(),
                }
            }
        }
    }
}

/// Docker's words for each status.
pub fn status_word(status: &PushStatus) -> String {
    match status {
        PushStatus::Preparing => "Preparing".into(),
        PushStatus::Pushing { .. } => "Pushing".into(),
        PushStatus::Pushed => "Pushed".into(),
        PushStatus::LayerAlreadyExists => "Layer already exists".into(),
        PushStatus::MountedFrom(repo) => format!("Mounted from {repo}"),
    }
}
