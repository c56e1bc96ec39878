//! The per-layer progress display: bars on a terminal (like `docker pull`),
//! plain lines otherwise (logs, CI, tests).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pull::{LayerStatus, Progress};

/// Receives progress events and draws them.
pub enum Display {
    Bars { multi: MultiProgress, bars: HashMap<String, ProgressBar> },
    Lines { last: HashMap<String, &'static str> },
}

impl Display {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn for_stderr() -> Display {
        if std::io::stderr().is_terminal() {
            Display::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: HashMap::new(),
            }
        } else {
            Display::Lines { last: HashMap::new() }
        }
    }

    // ANCHOR: show
    pub fn show(&mut self, event: &Progress) {
        match self {
            Display::Lines { last } => {
                let word = status_word(&event.status);
                // One line per change of status, not one per chunk of bytes.
                if last.get(&event.layer) != Some(&word) {
                    last.insert(event.layer.clone(), word);
                    let _ = writeln!(std::io::stderr(), "{}: {word}", event.layer);
                }
            }
            Display::Bars { multi, bars } => {
                let bar = bars.entry(event.layer.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(0));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix}: {msg:<18} {bar:40} {bytes}/{total_bytes}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(event.layer.clone());
                    bar
                });
                bar.set_message(status_word(&event.status));
                match event.status {
                    LayerStatus::Downloading { done, total } => {
                        bar.set_length(total);
                        bar.set_position(done);
                    }
                    LayerStatus::PullComplete | LayerStatus::AlreadyExists => bar.finish(),
                    _ => bar.tick(),
                }
            }
        }
    }
    // ANCHOR_END: show
}

pub fn status_word(status: &LayerStatus) -> &'static str {
    match status {
        LayerStatus::Waiting => "Pulling fs layer",
        LayerStatus::AlreadyExists => "Already exists",
        LayerStatus::Downloading { .. } => "Downloading",
        LayerStatus::DownloadComplete => "Download complete",
        LayerStatus::Extracting => "Extracting",
        LayerStatus::PullComplete => "Pull complete",
    }
}
