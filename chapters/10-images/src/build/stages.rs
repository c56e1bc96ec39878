//! The whole build: the Dockerfile's lines cut into stages, each stage
//! built in order up to `--target`, the last one tagged.

use std::collections::{BTreeMap, BTreeSet};

use ch04_image_pull::digest::short;
use ch04_image_pull::store::Store;
use ch09_engine::Local;

use super::parser::{self, Line};
use super::step::{Stage, Step};
use super::{BuildError, BuildOptions, Progress};

/// What a build made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The final image's id (`sha256:…`).
    pub id: String,
}

/// Everything the steps share: the engine, the store, what was asked.
pub struct Build<'a> {
    pub local: &'a Local,
    pub store: Store,
    pub options: &'a BuildOptions,
    pub escape: char,
    /// `--build-arg`s, with the environment's value for a bare `K`.
    pub args: BTreeMap<String, Option<String>>,
    /// ARGs before the first FROM, with their values.
    pub meta_args: BTreeMap<String, Option<String>>,
    /// Every ARG name declared anywhere (the others are "not consumed").
    pub declared: BTreeSet<String>,
    /// Stages built so far: their name (if any) and image.
    pub built: Vec<(Option<String>, Option<String>)>,
    pub step: usize,
    pub steps: usize,
}

// ANCHOR: build
/// Build `options.dockerfile` in `options.context`; the output goes to `progress`.
pub fn build(
    local: &Local,
    options: &BuildOptions,
    progress: &mut dyn Progress,
) -> Result<Built, BuildError> {
    let dockerfile =
        parser::parse(&options.dockerfile).map_err(|e| BuildError::new(e.to_string()))?;
    for warning in &dockerfile.warnings {
        progress.stream(&format!("[WARNING]: {warning}\n"));
    }
    let (meta, stages) = split_stages(&dockerfile.lines)?;
    let stages = until_target(stages, options.target.as_deref())?;
    let steps = meta.len() + stages.iter().map(Vec::len).sum::<usize>();
    let mut build = Build::new(local, options, dockerfile.escape, steps)?;
    for line in &meta {
        build.header(line, progress);
        build.meta_arg(line)?;
    }
    let mut last = None;
    for lines in &stages {
        let mut stage = Stage::from_line(&mut build, &lines[0], progress)?;
        for line in &lines[1..] {
            build.header(line, progress);
            Step { build: &mut build, stage: &mut stage, progress: &mut *progress }.run(line)?;
        }
        let id = stage.image_id().map(str::to_string);
        if let Some(id) = &id {
            progress.aux(id);
        }
        build.built.push((stage.name.clone(), id.clone()));
        last = id;
    }
    let Some(id) = last else {
        return Err(BuildError::new("No image was generated. Is your Dockerfile empty?"));
    };
    build.finish(&id, progress)?;
    Ok(Built { id })
}
// ANCHOR_END: build

impl<'a> Build<'a> {
    fn new(
        local: &'a Local,
        options: &'a BuildOptions,
        escape: char,
        steps: usize,
    ) -> Result<Build<'a>, BuildError> {
        Ok(Build {
            local,
            store: Store::open(local.root()).map_err(anyhow::Error::from)?,
            options,
            escape,
            args: options.build_args.iter().map(|(k, v)| (k.clone(), value_of(k, v))).collect(),
            meta_args: BTreeMap::new(),
            declared: BTreeSet::new(),
            built: Vec::new(),
            step: 0,
            steps,
        })
    }

    /// `Step 3/7 : COPY . /app`
    pub fn header(&mut self, line: &Line, progress: &mut dyn Progress) {
        self.step += 1;
        progress.stream(&format!("Step {}/{} : {}\n", self.step, self.steps, line.original));
    }

    fn meta_arg(&mut self, line: &Line) -> Result<(), BuildError> {
        for (name, default) in super::step::arg_pairs(line, self.escape, &|_| None)? {
            self.declared.insert(name.clone());
            let value = self.args.get(&name).cloned().flatten().or(default);
            self.meta_args.insert(name, value);
        }
        Ok(())
    }

    /// The unused-argument warning, the summary lines, the tags.
    fn finish(&self, id: &str, progress: &mut dyn Progress) -> Result<(), BuildError> {
        let unused: Vec<&String> =
            self.args.keys().filter(|k| !self.declared.contains(*k)).collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            progress.stream(&format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                names.join(" ")
            ));
        }
        progress.stream(&format!("Successfully built {}\n", short(id)));
        let lock = self.store.lock().map_err(anyhow::Error::from)?;
        for tag in &self.options.tags {
            self.store.set_tag(&lock, &tag.to_string(), id).map_err(anyhow::Error::from)?;
            progress.stream(&format!("Successfully tagged {}\n", tag.familiar()));
        }
        Ok(())
    }
}

/// `--build-arg K` without `=`: the value of `K` in the environment, if any.
fn value_of(key: &str, value: &Option<String>) -> Option<String> {
    value.clone().or_else(|| std::env::var(key).ok())
}

/// The ARGs before the first FROM, then one list of lines per stage.
fn split_stages(lines: &[Line]) -> Result<(Vec<Line>, Vec<Vec<Line>>), BuildError> {
    let mut meta = Vec::new();
    let mut stages: Vec<Vec<Line>> = Vec::new();
    for line in lines {
        match (line.instruction.as_str(), stages.last_mut()) {
            ("FROM", _) => stages.push(vec![line.clone()]),
            (_, Some(stage)) => stage.push(line.clone()),
            ("ARG", None) => meta.push(line.clone()),
            (other, None) => {
                return Err(BuildError::new(format!(
                    "Please provide a source image with `from` prior to {}",
                    other.to_ascii_lowercase()
                )))
            }
        }
    }
    if stages.is_empty() {
        return Err(BuildError::new("No image was generated. Is your Dockerfile empty?"));
    }
    Ok((meta, stages))
}

/// `--target NAME`: the stages up to and including the one named NAME.
fn until_target(
    mut stages: Vec<Vec<Line>>,
    target: Option<&str>,
) -> Result<Vec<Vec<Line>>, BuildError> {
    let Some(target) = target else { return Ok(stages) };
    let wanted = target.to_ascii_lowercase();
    let position =
        stages.iter().position(|lines| stage_name(&lines[0]).as_deref() == Some(wanted.as_str()));
    match position {
        Some(index) => {
            stages.truncate(index + 1);
            Ok(stages)
        }
        None => Err(BuildError::new(format!("target stage \"{target}\" could not be found"))),
    }
}

/// `FROM image AS name` → `name` (lower case), without expanding anything.
pub fn stage_name(from: &Line) -> Option<String> {
    let words: Vec<&str> = from.args.split_whitespace().collect();
    match words.as_slice() {
        [_, r#as, name] if r#as.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
        _ => None,
    }
}
