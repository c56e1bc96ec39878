//! One instruction of a stage: what it changes in the config, what its
//! probe is, and — when the cache has no such step — the work that makes
//! its image: a container for RUN, a layer for COPY, ADD and a new
//! WORKDIR, nothing but a new config for the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ch04_image_pull::digest::short;
use ch04_image_pull::store::Added;
use serde_json::{json, Value};

use super::cache::{self, CONTAINER_CONFIG};
use super::context::{self, Sources};
use super::copy::{self, CopyRequest};
use super::parser::{self, json_form, Line};
use super::run::{self, run_step, RunRequest};
use super::stages::Build;
use super::{BuildError, Progress};
use crate::change::{
    self, parse_change_escaped, words_escaped, words_escaped_joined, ConfigChange,
};
use crate::commit::timestamp;
use crate::config::{History, ImageConfig, RunConfig};
use crate::image::{or_roll_back, record_image, store_layer, Parent, StoredLayer};
use crate::tree::Tree;

/// The default `SHELL`.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// A stage being built: its image so far and what it has declared.
pub struct Stage {
    pub name: Option<String>,
    /// The image of the last step (`None`: `FROM scratch`, nothing yet).
    pub image: Option<Parent>,
    /// The config the next step starts from.
    pub config: ImageConfig,
    /// The ARGs declared in this stage, with their values.
    pub args: BTreeMap<String, Option<String>>,
    /// Whether a CMD was given in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    /// After the first miss, no step of the stage looks in the cache.
    pub busted: bool,
}

/// What a step does once the cache had nothing.
enum Work {
    Config,
    Run(RunRequest),
    Copy(Box<CopyWork>),
    Mkdir(PathBuf),
}

struct CopyWork {
    sources: Sources,
    paths: Vec<PathBuf>,
    dest: PathBuf,
    dest_is_dir: bool,
    owner: Option<(u32, u32)>,
    unpack: bool,
}

/// A step being run: the build, its stage, where the output goes.
pub struct Step<'a, 'b> {
    pub build: &'a mut Build<'b>,
    pub stage: &'a mut Stage,
    pub progress: &'a mut dyn Progress,
}

impl Stage {
    pub fn image_id(&self) -> Option<&str> {
        self.image.as_ref().map(|p| p.record.id.as_str())
    }

    fn layers(&self, build: &Build) -> Vec<PathBuf> {
        let layers = self.image.as_ref().map(|p| p.record.layers.clone()).unwrap_or_default();
        layers.iter().map(|l| build.store.layer_path(&l.diff_id)).collect()
    }

    fn shell(&self) -> Vec<String> {
        let shell = self
            .config
            .config
            .other
            .get("Shell")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        shell.unwrap_or_else(|| DEFAULT_SHELL.map(String::from).to_vec())
    }

    /// `FROM image [AS name]`: the stage starts from that image's config
    /// (with a `PATH` if it had none), or from nothing for `scratch`; then
    /// the image's ONBUILD triggers run.
    pub fn from_line(
        build: &mut Build,
        line: &Line,
        progress: &mut dyn Progress,
    ) -> Result<Stage, BuildError> {
        build.header(line, progress);
        only_flags(line, &["platform"])?;
        let meta = build.meta_args.clone();
        let words = words_escaped(&line.args, &|k| meta.get(k).cloned().flatten(), build.escape)
            .map_err(syntax)?;
        let (image, name) = match words.as_slice() {
            [image] => (image.clone(), None),
            [image, r#as, name] if r#as.eq_ignore_ascii_case("as") => {
                (image.clone(), Some(stage_name(name)?))
            }
            _ => return Err(BuildError::new("FROM requires either one or three arguments")),
        };
        let platform = flag(line, "platform").map(str::to_string);
        let base = base_image(build, &image, platform.as_deref())?;
        progress.stream(&format!(" ---> {}\n", base.as_ref().map_or("", |p| short(&p.record.id))));
        let mut config = base.as_ref().map(|p| p.config.clone()).unwrap_or_else(scratch_config);
        if config.config.env_value("PATH").is_none() {
            config.config.set_env("PATH", ch01_namespaces::exec::DEFAULT_PATH);
        }
        let triggers: Vec<String> = match config.config.other.remove("OnBuild") {
            Some(Value::Array(items)) => {
                items.iter().filter_map(|t| t.as_str().map(String::from)).collect()
            }
            _ => Vec::new(),
        };
        let mut stage = Stage {
            name,
            image: base,
            config,
            args: BTreeMap::new(),
            cmd_set: false,
            busted: false,
        };
        run_triggers(build, &mut stage, &triggers, progress)?;
        Ok(stage)
    }
}

fn run_triggers(
    build: &mut Build,
    stage: &mut Stage,
    triggers: &[String],
    progress: &mut dyn Progress,
) -> Result<(), BuildError> {
    if triggers.is_empty() {
        return Ok(());
    }
    let word = if triggers.len() > 1 { "triggers" } else { "trigger" };
    progress.stream(&format!("# Executing {} build {word}\n", triggers.len()));
    for trigger in triggers {
        let parsed = parser::parse(trigger).map_err(|e| BuildError::new(e.to_string()))?;
        for line in &parsed.lines {
            Step { build, stage, progress }.run(line)?;
        }
    }
    Ok(())
}

/// The base of a stage: `scratch`, an earlier stage, or an image.
fn base_image(
    build: &Build,
    name: &str,
    platform: Option<&str>,
) -> Result<Option<Parent>, BuildError> {
    if name.eq_ignore_ascii_case("scratch") {
        return Ok(None);
    }
    let earlier =
        build.built.iter().rev().find(|(n, _)| n.as_deref() == Some(&name.to_ascii_lowercase()));
    if let Some((_, id)) = earlier {
        let id =
            id.as_deref().ok_or_else(|| BuildError::new(format!("stage {name} made no image")))?;
        return Ok(Some(Parent::load(&build.store, id)?));
    }
    let id = match build.store.resolve(name).map_err(anyhow::Error::from)? {
        Some((id, _)) => id,
        None => {
            ch09_engine::Api::image_pull(build.local, name, platform, &mut |_| {})
                .map_err(|e| BuildError::new(e.message))?;
            let found = build.store.resolve(name).map_err(anyhow::Error::from)?;
            found.ok_or_else(|| BuildError::new(format!("pull access denied for {name}")))?.0
        }
    };
    Ok(Some(Parent::load(&build.store, &id)?))
}

fn scratch_config() -> ImageConfig {
    let platform = ch04_image_pull::platform::Platform::host();
    ImageConfig { architecture: platform.architecture, os: platform.os, ..ImageConfig::default() }
}

/// `AS name`: lower case, `^[a-z][a-z0-9-_.]*$`.
fn stage_name(name: &str) -> Result<String, BuildError> {
    let name = name.to_ascii_lowercase();
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    match valid {
        true => Ok(name),
        false => Err(BuildError::new(format!(
            "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
        ))),
    }
}

impl Step<'_, '_> {
    // ANCHOR: dispatch
    /// Run one instruction of the stage.
    pub fn run(&mut self, line: &Line) -> Result<(), BuildError> {
        let mut after = self.stage.config.config.clone();
        let (cmd, work) = match line.instruction.as_str() {
            "RUN" => self.run_instruction(line)?,
            "COPY" | "ADD" => self.copy(line)?,
            "WORKDIR" => self.workdir(line, &mut after)?,
            "ARG" => {
                let comment = self.arg(line)?;
                (self.nop(&comment), Work::Config)
            }
            "FROM" => return Err(BuildError::new("FROM starts a stage: it is not a step of one")),
            _ => {
                let comment = self.config_change(line, &mut after)?;
                (self.nop(&format!(" {comment}")), Work::Config)
            }
        };
        self.commit(after, cmd, work)
    }
    // ANCHOR_END: dispatch

    /// `/bin/sh -c #(nop) <what>`: a step that runs nothing.
    fn nop(&self, what: &str) -> Vec<String> {
        cache::nop(&self.stage.shell(), what)
    }

    /// What `$NAME` means here: the config's environment, then the
    /// stage's ARGs (an ENV of the same name wins).
    fn lookup(&self) -> impl Fn(&str) -> Option<String> {
        let env = self.env_config();
        move |name: &str| env.env_value(name).map(str::to_string)
    }

    /// The build args a RUN sees, `K=V` sorted (those ENV does not shadow).
    fn run_args(&self) -> Vec<String> {
        let config = &self.stage.config.config;
        let visible = self.stage.args.iter().filter(|(k, _)| config.env_value(k).is_none());
        visible.filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect()
    }

    // ANCHOR: run
    /// RUN: exec form as written, shell form through the stage's SHELL.
    /// The build args in scope go before the command in the probe
    /// (`|1 V=2 /bin/sh -c …`), so another value misses the cache.
    fn run_instruction(&self, line: &Line) -> Result<(Vec<String>, Work), BuildError> {
        if let Some((flag, _)) = line.flags.first() {
            return Err(needs_buildkit(flag));
        }
        let argv = match json_form(&line.args) {
            Some(argv) => argv,
            None => [self.stage.shell(), vec![line.args.clone()]].concat(),
        };
        let args = self.run_args();
        let mut cmd = argv.clone();
        if !args.is_empty() {
            cmd = [vec![format!("|{}", args.len())], args.clone(), argv.clone()].concat();
        }
        let image = self.stage.image_id().ok_or_else(|| {
            BuildError::new(
                "RUN needs an image with a shell: this stage is FROM scratch with nothing in it",
            )
        })?;
        let request = RunRequest { image: image.to_string(), argv, env: args };
        Ok((cmd, Work::Run(request)))
    }
    // ANCHOR_END: run

    /// ARG NAME[=default]...: its value is the --build-arg, else the
    /// default, else (a bare ARG) the value it had before the first FROM.
    fn arg(&mut self, line: &Line) -> Result<String, BuildError> {
        only_flags(line, &[])?;
        let lookup = self.lookup();
        let pairs = arg_pairs(line, self.build.escape, &lookup)?;
        let mut comment = Vec::new();
        for (name, default) in pairs {
            comment.push(match &default {
                Some(value) => format!("{name}={value}"),
                None => name.clone(),
            });
            let meta = self.build.meta_args.get(&name).cloned().flatten();
            let value = self.build.args.get(&name).cloned().flatten().or(default).or(meta);
            self.build.declared.insert(name.clone());
            self.stage.args.insert(name, value);
        }
        Ok(format!(" ARG {}", comment.join(" ")))
    }

    /// WORKDIR: a new directory is a layer of its own; one that exists is not.
    fn workdir(
        &self,
        line: &Line,
        after: &mut RunConfig,
    ) -> Result<(Vec<String>, Work), BuildError> {
        only_flags(line, &[])?;
        let text = format!("WORKDIR {}", line.args);
        let change =
            parse_change_escaped(&text, &self.env_config(), self.build.escape).map_err(syntax)?;
        change.apply(after);
        let dir = after.working_dir.clone();
        Ok((self.nop(&format!("WORKDIR {dir}")), Work::Mkdir(PathBuf::from(dir))))
    }

    /// A RunConfig whose `Env` is what `$NAME` expands to here.
    fn env_config(&self) -> RunConfig {
        let mut env = self.stage.config.config.env.clone();
        for (name, value) in &self.stage.args {
            if let (Some(value), None) = (value, self.stage.config.config.env_value(name)) {
                env.push(format!("{name}={value}"));
            }
        }
        RunConfig { env, ..RunConfig::default() }
    }

    // ANCHOR: commit
    /// The cache, or the work; then the step's image is the stage's.
    fn commit(&mut self, after: RunConfig, cmd: Vec<String>, work: Work) -> Result<(), BuildError> {
        let is_run = matches!(work, Work::Run(..));
        let probe = cache::probe_config(&after, cmd.clone(), is_run);
        let parent = self.stage.image_id().map(str::to_string);
        if !self.build.options.no_cache && !self.stage.busted {
            if let Some(id) = cache::probe(&self.build.store, parent.as_deref(), &probe)? {
                self.progress.stream(&format!(" ---> Using cache\n ---> {}\n", short(&id)));
                return self.become_image(&id);
            }
        }
        self.stage.busted = true;
        let times = self.build.options.times;
        let created = timestamp(times);
        let mut config = self.stage.config.clone();
        config.config = after;
        config.created = Some(created.clone());
        config.other.insert(
            CONTAINER_CONFIG.into(),
            serde_json::to_value(&probe).map_err(anyhow::Error::from)?,
        );
        let history = History {
            created: Some(created),
            created_by: Some(cmd.join(" ")),
            ..History::default()
        };
        let store = self.build.store.clone();
        let record = or_roll_back(&store, |added| {
            let layer = self.work(work, &cmd, added).map_err(anyhow::Error::from)?;
            record_image(&store, added, self.stage.image.as_ref(), config, history, layer, None)
        })?;
        self.progress.stream(&format!(" ---> {}\n", short(&record.id)));
        self.become_image(&record.id)
    }
    // ANCHOR_END: commit

    fn become_image(&mut self, id: &str) -> Result<(), BuildError> {
        let parent = Parent::load(&self.build.store, id)?;
        self.stage.config = parent.config.clone();
        self.stage.image = Some(parent);
        Ok(())
    }

    fn work(
        &mut self,
        work: Work,
        cmd: &[String],
        added: &mut Added,
    ) -> Result<Option<StoredLayer>, BuildError> {
        let store = self.build.store.clone();
        let times = self.build.options.times;
        match work {
            Work::Config => self.nop_step(cmd, |_| Ok(None)),
            Work::Run(request) => {
                run_step(self.build.local, &store, added, &request, times, &mut *self.progress)
            }
            Work::Copy(copy) => {
                let layers = self.stage.layers(self.build);
                let request = CopyRequest {
                    sources: &copy.sources,
                    paths: &copy.paths,
                    dest: copy.dest.clone(),
                    dest_is_dir: copy.dest_is_dir,
                    owner: copy.owner,
                    unpack: copy.unpack,
                    layers: &layers,
                };
                let plan = copy::plan(&request)?;
                Ok(store_layer(&store, added, |out| plan.write(&copy.sources, out, times))?)
            }
            Work::Mkdir(dir) => self.nop_step(cmd, |step| step.mkdir(&dir, added)),
        }
    }

    // ANCHOR: nop_step
    /// A step that runs nothing still has its intermediate container, as
    /// dockerd's classic builder makes one, never started (a `FROM
    /// scratch` stage with nothing yet has no image to make one of).
    fn nop_step<T>(
        &mut self,
        cmd: &[String],
        work: impl FnOnce(&mut Self) -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let Some(image) = self.stage.image_id().map(str::to_string) else { return work(self) };
        let local = self.build.local;
        let body = run::nop_container(&image, cmd);
        let id = run::create_intermediate(local, &body, &mut *self.progress)?;
        let result = work(self);
        run::remove_intermediate(local, &id, result, &mut *self.progress)
    }
    // ANCHOR_END: nop_step

    /// WORKDIR's directory: a layer of its own when it is new.
    fn mkdir(&mut self, dir: &Path, added: &mut Added) -> Result<Option<StoredLayer>, BuildError> {
        let store = self.build.store.clone();
        let times = self.build.options.times;
        let layers = self.stage.layers(self.build);
        let relative = dir.strip_prefix("/").unwrap_or(dir).to_path_buf();
        let exists = || crate::layer::lookup(&layers, &relative).map_err(anyhow::Error::from);
        if relative.as_os_str().is_empty() || exists()?.is_some() {
            return Ok(None);
        }
        let sources = Sources::context(Tree::default());
        let request = CopyRequest {
            sources: &sources,
            paths: &[],
            dest: dir.to_path_buf(),
            dest_is_dir: true,
            owner: None,
            unpack: false,
            layers: &layers,
        };
        let mut plan = copy::Plan::default();
        plan.make_dir(&request, dir).map_err(anyhow::Error::from)?;
        Ok(store_layer(&store, added, |out| plan.write(&sources, out, times))?)
    }

    // ANCHOR: copy
    /// COPY/ADD [--from=STAGE] [--chown=U:G] SRC... DEST: the probe names
    /// the sources by the hash of their content, not by their names.
    fn copy(&self, line: &Line) -> Result<(Vec<String>, Work), BuildError> {
        let what = line.instruction.as_str();
        let failed = |e: &dyn std::fmt::Display| BuildError::new(format!("{what} failed: {e}"));
        copy_flags(line)?;
        let lookup = self.lookup();
        let expand =
            |text: &str| words_escaped_joined(text, &lookup, self.build.escape).map_err(syntax);
        let mut words = match json_form(&line.args) {
            Some(words) => words,
            None => words_escaped(&line.args, &lookup, self.build.escape).map_err(syntax)?,
        };
        if words.len() < 2 {
            return Err(BuildError::new(format!("{what} requires at least two arguments, but only one was provided. Destination could not be determined.")));
        }
        let dest_text = words.pop().expect("two or more");
        let from = flag(line, "from").map(expand).transpose()?;
        let (sources, paths) = self.sources(what, from.as_deref(), &words)?;
        let dest_is_dir = dest_text.ends_with('/') || dest_text.ends_with("/.") || dest_text == ".";
        let many = paths.len() > 1 || words.iter().any(|w| super::pattern::has_wildcards(w));
        if many && !dest_is_dir {
            return Err(BuildError::new(format!("When using {what} with more than one source file, the destination must be a directory and end with a /")));
        }
        let dest = absolute_dest(&self.stage.config.config.working_dir, &dest_text);
        let chown = flag(line, "chown").map(expand).transpose()?;
        let owner =
            chown.as_deref().map(|spec| self.owner(spec)).transpose().map_err(|e| failed(&e))?;
        let hash = sources.content_hash(&paths).map_err(|e| failed(&e))?;
        let chown_comment = chown.map(|c| format!("--chown={c} ")).unwrap_or_default();
        let cmd = self.nop(&format!("{what} {chown_comment}{hash} in {} ", dest.display()));
        let unpack = what == "ADD";
        Ok((
            cmd,
            Work::Copy(Box::new(CopyWork { sources, paths, dest, dest_is_dir, owner, unpack })),
        ))
    }
    // ANCHOR_END: copy

    /// The tree COPY takes from (the context, or `--from`'s), and the
    /// paths in it that the sources name.
    fn sources(
        &self,
        what: &str,
        from: Option<&str>,
        words: &[String],
    ) -> Result<(Sources, Vec<PathBuf>), BuildError> {
        let failed = |e: &dyn std::fmt::Display| BuildError::new(format!("{what} failed: {e}"));
        let sources = match from {
            Some(from) => self.stage_sources(from)?,
            None => Sources::context(context::context_tree(&self.build.options.context)?),
        };
        let mut paths = Vec::new();
        for source in words {
            if what == "ADD" && (source.starts_with("http://") || source.starts_with("https://")) {
                return Err(failed(&"mini-docker downloads nothing while it builds: fetch the file into the context first"));
            }
            paths.extend(sources.resolve(source).map_err(|e| failed(&e))?);
        }
        Ok((sources, paths))
    }

    /// `--from=NAME|INDEX|IMAGE`: an earlier stage by name, then by
    /// number, then an image of the local store.
    fn stage_sources(&self, from: &str) -> Result<Sources, BuildError> {
        let wanted = from.to_ascii_lowercase();
        let by_name =
            self.build.built.iter().find(|(name, _)| name.as_deref() == Some(wanted.as_str()));
        let by_index = from.parse::<usize>().ok().and_then(|i| self.build.built.get(i));
        let id = match by_name.or(by_index) {
            Some((_, id)) => id.clone(),
            None => self.build.store.resolve(from).map_err(anyhow::Error::from)?.map(|(id, _)| id),
        };
        let Some(id) = id else {
            return Err(BuildError::new(format!(
                "invalid from flag value {from}: no build stage of that name before this one, and no local image"
            )));
        };
        let record = self.build.store.image(&id).map_err(anyhow::Error::from)?;
        let layers: Vec<PathBuf> =
            record.layers.iter().map(|l| self.build.store.layer_path(&l.diff_id)).collect();
        let tree = Tree::of_layers(&layers).map_err(anyhow::Error::from)?;
        Ok(Sources::image(tree))
    }

    /// `--chown=user:group` by the image's own /etc/passwd and /etc/group.
    fn owner(&self, spec: &str) -> anyhow::Result<(u32, u32)> {
        let layers = self.stage.layers(self.build);
        let read = |file| ch05_run::layers::read_through_layers(&layers, file).unwrap_or_default();
        let user = ch05_run::user::resolve_user(spec, &read("etc/passwd"), &read("etc/group"))
            .map_err(|e| {
                anyhow::anyhow!("unable to convert uid/gid chown string to host mapping: {e}")
            })?;
        Ok((user.uid, user.gid))
    }

    /// The instructions that change only the config; returns what the
    /// history says of them (`ENV A=b`, `CMD ["sh"]`).
    fn config_change(&mut self, line: &Line, after: &mut RunConfig) -> Result<String, BuildError> {
        only_flags(line, if line.instruction == "HEALTHCHECK" { HEALTHCHECK_FLAGS } else { &[] })?;
        let shell = self.stage.shell();
        let instruction = line.instruction.as_str();
        match instruction {
            "CMD" | "ENTRYPOINT" => {
                let argv = json_form(&line.args)
                    .unwrap_or_else(|| [shell, vec![line.args.clone()]].concat());
                if instruction == "CMD" {
                    after.cmd = Some(argv.clone());
                    self.stage.cmd_set = true;
                } else {
                    after.entrypoint = Some(argv.clone());
                    if !self.stage.cmd_set {
                        after.cmd = None;
                    }
                }
                Ok(format!("{instruction} {}", go_list(&argv)))
            }
            "SHELL" => {
                let argv = json_form(&line.args).ok_or_else(|| {
                    BuildError::new("SHELL requires the arguments to be in JSON form")
                })?;
                after.other.insert("Shell".into(), json!(argv));
                Ok(format!("SHELL {}", go_list(&argv)))
            }
            "HEALTHCHECK" => healthcheck(line, after),
            "ONBUILD" => onbuild(line, after),
            "MAINTAINER" => {
                self.stage.config.author = Some(line.args.clone());
                Ok(format!("MAINTAINER {}", line.args))
            }
            _ => {
                let text = format!("{instruction} {}", line.args);
                let change = parse_change_escaped(&text, &self.env_config(), self.build.escape)
                    .map_err(syntax)?;
                let comment = comment_of(&change);
                change.apply(after);
                Ok(comment)
            }
        }
    }
}

/// What the history says of a config change, as Docker writes it.
fn comment_of(change: &ConfigChange) -> String {
    let pairs = |p: &[(String, String)]| {
        p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    };
    match change {
        ConfigChange::Env(p) => format!("ENV {}", pairs(p)),
        ConfigChange::Label(p) => format!("LABEL {}", pairs(p)),
        ConfigChange::Expose(ports) => format!("EXPOSE {}", ports.join(" ")),
        ConfigChange::User(user) => format!("USER {user}"),
        ConfigChange::Volume(paths) => format!("VOLUME {}", go_list(paths)),
        ConfigChange::StopSignal(signal) => format!("STOPSIGNAL {signal}"),
        ConfigChange::Workdir(dir) => format!("WORKDIR {dir}"),
        ConfigChange::Cmd(argv) => format!("CMD {}", go_list(argv)),
        ConfigChange::Entrypoint(argv) => format!("ENTRYPOINT {}", go_list(argv)),
    }
}

/// Go's `%q` of a `[]string`: `["a" "b c"]`.
pub fn go_list(items: &[String]) -> String {
    let quoted: Vec<String> =
        items.iter().map(|s| serde_json::to_string(s).expect("a string")).collect();
    format!("[{}]", quoted.join(" "))
}

const HEALTHCHECK_FLAGS: &[&str] =
    &["interval", "timeout", "start-period", "start-interval", "retries"];

/// HEALTHCHECK NONE, or HEALTHCHECK [--interval=…] CMD command.
fn healthcheck(line: &Line, after: &mut RunConfig) -> Result<String, BuildError> {
    let args = line.args.trim();
    let (kind, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let mut check = serde_json::Map::new();
    match kind.to_ascii_uppercase().as_str() {
        "NONE" if rest.trim().is_empty() && line.flags.is_empty() => {
            check.insert("Test".into(), json!(["NONE"]));
        }
        "NONE" => return Err(BuildError::new("HEALTHCHECK NONE takes no arguments")),
        "CMD" => {
            let test = match json_form(rest) {
                Some(argv) => [vec!["CMD".to_string()], argv].concat(),
                None if rest.trim().is_empty() => {
                    return Err(BuildError::new("Missing command after HEALTHCHECK CMD"))
                }
                None => vec!["CMD-SHELL".to_string(), rest.trim().to_string()],
            };
            check.insert("Test".into(), json!(test));
            for (name, value) in &line.flags {
                let key = match name.as_str() {
                    "interval" => "Interval",
                    "timeout" => "Timeout",
                    "start-period" => "StartPeriod",
                    "start-interval" => "StartInterval",
                    _ => {
                        let retries: u64 = value.parse().map_err(|_| {
                            BuildError::new(format!("invalid --retries value {value:?}"))
                        })?;
                        check.insert("Retries".into(), json!(retries));
                        continue;
                    }
                };
                let duration = humantime::parse_duration(value).map_err(|e| {
                    BuildError::new(format!("invalid --{name} value {value:?}: {e}"))
                })?;
                check.insert(key.into(), json!(duration.as_nanos() as u64));
            }
        }
        other => {
            return Err(BuildError::new(format!(
                "Unknown type \"{other}\" in HEALTHCHECK (try CMD)"
            )))
        }
    }
    after.other.insert("Healthcheck".into(), Value::Object(check));
    Ok(format!("HEALTHCHECK {args}"))
}

/// ONBUILD INSTRUCTION …: kept for the images built FROM this one.
fn onbuild(line: &Line, after: &mut RunConfig) -> Result<String, BuildError> {
    let trigger = line.args.trim().to_string();
    let word = trigger.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    match word.as_str() {
        "ONBUILD" => {
            return Err(BuildError::new("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"))
        }
        "FROM" | "MAINTAINER" => {
            return Err(BuildError::new(format!("{word} isn't allowed as an ONBUILD trigger")))
        }
        _ => {}
    }
    parser::parse(&trigger).map_err(|e| BuildError::new(e.to_string()))?;
    let mut triggers: Vec<Value> = match after.other.remove("OnBuild") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    triggers.push(json!(trigger));
    after.other.insert("OnBuild".into(), Value::Array(triggers));
    Ok(format!("ONBUILD {trigger}"))
}

/// `ARG A=1 B`: names with their (expanded) defaults.
pub fn arg_pairs(
    line: &Line,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, Option<String>)>, BuildError> {
    let words = words_escaped(&line.args, lookup, escape).map_err(syntax)?;
    if words.is_empty() {
        return Err(BuildError::new("ARG requires at least one argument"));
    }
    Ok(words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect())
}

/// COPY takes --from and --chown, ADD --chown; BuildKit's others are refused.
fn copy_flags(line: &Line) -> Result<(), BuildError> {
    for (flag, _) in &line.flags {
        if ["chmod", "link", "parents", "exclude", "checksum", "keep-git-dir"]
            .contains(&flag.as_str())
        {
            return Err(needs_buildkit(flag));
        }
    }
    only_flags(line, if line.instruction == "COPY" { &["from", "chown"] } else { &["chown"] })
}

fn flag<'l>(line: &'l Line, name: &str) -> Option<&'l str> {
    line.flags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Any flag not in `allowed` is an error, as BuildKit's parser says it.
fn only_flags(line: &Line, allowed: &[&str]) -> Result<(), BuildError> {
    match line.flags.iter().find(|(name, _)| !allowed.contains(&name.as_str())) {
        Some((name, _)) => Err(BuildError::new(format!("Unknown flag: {name}"))),
        None => Ok(()),
    }
}

fn needs_buildkit(flag: &str) -> BuildError {
    BuildError::new(format!(
        "the --{flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"
    ))
}

fn syntax(error: change::ChangeError) -> BuildError {
    BuildError::new(error.to_string())
}

/// DEST relative to WORKDIR (`/` when none), cleaned.
fn absolute_dest(workdir: &str, dest: &str) -> PathBuf {
    let base = if workdir.is_empty() { "/" } else { workdir };
    let joined =
        if dest.starts_with('/') { PathBuf::from(dest) } else { Path::new(base).join(dest) };
    Path::new("/").join(context::lexical(&joined).unwrap_or_default())
}
