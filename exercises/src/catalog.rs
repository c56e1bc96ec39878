//! The exercises in the order a learner does them: chapter by chapter,
//! easy to hard. Each chapter folder (`src/chNN/mod.rs`) lists its own;
//! adding a chapter is one folder, one `pub mod` line in `lib.rs` and one
//! line in [`CHAPTERS`].

/// How hard an exercise is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A pure function: strings and numbers in, strings and numbers out.
    Easy,
    /// More cases, a small parser, or files in a temporary directory.
    Medium,
    /// Processes, the real kernel, or a whole algorithm.
    Hard,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Easy => "easy",
            Level::Medium => "medium",
            Level::Hard => "hard",
        }
    }
}

/// One exercise: a stub in `src/<chapter>/<name>.rs`, a hint in `hints/<name>.md`.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// Unique across chapters; also the module and hint file name.
    pub name: &'static str,
    /// `ch01`...: the folder, and the module path of the tests.
    pub chapter: &'static str,
    /// The real function the stub stands for (the reference solution).
    pub reference: &'static str,
    pub level: Level,
    /// Needs root and the real kernel (namespaces, mounts, device nodes).
    pub root: bool,
    /// The book section it practises, relative to `book/src`.
    pub book: &'static str,
    /// What to write, in one line.
    pub task: &'static str,
}

impl Exercise {
    /// The test-name prefix that selects this exercise's tests.
    pub fn test_prefix(&self) -> String {
        format!("{}::{}::", self.chapter, self.name)
    }

    /// The stub's file, relative to the `exercises` crate.
    pub fn file(&self) -> String {
        format!("src/{}/{}.rs", self.chapter, self.name)
    }

    /// The hint's file, relative to the `exercises` crate.
    pub fn hint_file(&self) -> String {
        format!("hints/{}.md", self.name)
    }
}

/// Every chapter's exercises, in order.
pub const CHAPTERS: &[(&str, &str, &[Exercise])] = &[
    ("ch01", "Namespaces", crate::ch01::EXERCISES),
    ("ch02", "Cgroups", crate::ch02::EXERCISES),
    ("ch03", "Union filesystem", crate::ch03::EXERCISES),
    ("ch04", "Images", crate::ch04::EXERCISES),
    ("ch05", "Run", crate::ch05::EXERCISES),
    ("ch06", "Networking", crate::ch06::EXERCISES),
    ("ch07", "Volumes", crate::ch07::EXERCISES),
    ("ch08", "Security", crate::ch08::EXERCISES),
    ("ch09", "The engine as a daemon", crate::ch09::EXERCISES),
    ("ch10", "Making images", crate::ch10::EXERCISES),
];

/// All exercises, in the order to do them.
pub fn all() -> Vec<Exercise> {
    CHAPTERS.iter().flat_map(|(_, _, list)| list.iter().copied()).collect()
}

/// The exercise called `name`.
pub fn find(name: &str) -> Option<Exercise> {
    all().into_iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_files_exist() {
        let all = all();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (i, e) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|other| other.name != e.name),
                "two exercises are called {}",
                e.name
            );
            assert!(dir.join(e.file()).is_file(), "{} has no stub file {}", e.name, e.file());
            assert!(
                dir.join(e.hint_file()).is_file(),
                "{} has no hint file {}",
                e.name,
                e.hint_file()
            );
        }
        for (chapter, _, list) in CHAPTERS {
            assert!(
                (3..=6).contains(&list.len()),
                "{chapter} has {} exercises, want 3 to 6",
                list.len()
            );
            assert!(list.iter().all(|e| e.chapter == *chapter));
        }
    }
}
