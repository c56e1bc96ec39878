//! `mini-docker swarm|node|service`: clients of the same Engine API the
//! `docker` CLI uses, with its verbs, flags and columns. Swarm mode lives
//! in a daemon, so these always talk to one (`-H`, or the default socket).

use std::time::{Duration, Instant};

use ch09_engine::{ApiError, Remote};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Subcommand)]
#[command(defer = true)]
pub enum SwarmCommand {
    /// Make this daemon a swarm's manager.
    Init {
        #[arg(long = "advertise-addr", default_value = "")]
        advertise_addr: String,
        #[arg(long = "listen-addr", default_value = "0.0.0.0:2377")]
        listen_addr: String,
        /// How often workers must be heard from (e.g. 5s).
        #[arg(long = "dispatcher-heartbeat")]
        dispatcher_heartbeat: Option<humantime::Duration>,
    },
    /// Join a swarm as a worker.
    Join {
        #[arg(long)]
        token: String,
        #[arg(long = "advertise-addr", default_value = "")]
        advertise_addr: String,
        #[arg(long = "listen-addr", default_value = "0.0.0.0:2377")]
        listen_addr: String,
        /// The manager: HOST:PORT.
        remote: String,
    },
    /// Print a join token (worker or manager).
    JoinToken {
        #[arg(short, long)]
        quiet: bool,
        role: String,
    },
    /// Leave the swarm.
    Leave {
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum NodeCommand {
    /// List the swarm's nodes.
    #[command(alias = "list")]
    Ls,
    /// Show nodes as JSON.
    Inspect { nodes: Vec<String> },
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ServiceCommand {
    /// Create a service.
    Create(CreateArgs),
    /// List services.
    #[command(alias = "list")]
    Ls,
    /// List a service's tasks.
    Ps { service: String },
    /// Show services as JSON.
    Inspect { services: Vec<String> },
    /// Set replica counts: SERVICE=N ...
    Scale {
        #[arg(short, long)]
        detach: bool,
        #[arg(required = true)]
        scales: Vec<String>,
    },
    /// Update a service.
    Update(UpdateArgs),
    /// Remove services.
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true)]
        services: Vec<String>,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    #[arg(short, long)]
    detach: bool,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    replicas: Option<u64>,
    /// PUBLISHED:TARGET
    #[arg(short, long = "publish")]
    publish: Vec<String>,
    #[arg(short, long = "env")]
    env: Vec<String>,
    #[arg(long = "update-parallelism")]
    update_parallelism: Option<u64>,
    #[arg(long = "update-delay")]
    update_delay: Option<humantime::Duration>,
    #[arg(long = "stop-grace-period")]
    stop_grace_period: Option<humantime::Duration>,
    #[arg(long = "restart-delay")]
    restart_delay: Option<humantime::Duration>,
    image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args)]
pub struct UpdateArgs {
    #[arg(short, long)]
    detach: bool,
    #[arg(long)]
    image: Option<String>,
    #[arg(long)]
    replicas: Option<u64>,
    #[arg(long = "env-add")]
    env_add: Vec<String>,
    #[arg(long = "update-parallelism")]
    update_parallelism: Option<u64>,
    #[arg(long = "update-delay")]
    update_delay: Option<humantime::Duration>,
    service: String,
}

type Result<T> = std::result::Result<T, ApiError>;

fn nanos(d: &humantime::Duration) -> u64 {
    Duration::from(*d).as_nanos() as u64
}

pub fn swarm(api: &Remote, command: SwarmCommand) -> Result<()> {
    match command {
        SwarmCommand::Init { advertise_addr, listen_addr, dispatcher_heartbeat } => {
            let mut spec = json!({});
            if let Some(period) = &dispatcher_heartbeat {
                spec["Dispatcher"] = json!({"HeartbeatPeriod": nanos(period)});
            }
            let body =
                json!({"AdvertiseAddr": advertise_addr, "ListenAddr": listen_addr, "Spec": spec});
            let id = api.request("POST", "/swarm/init", Some(&body))?;
            println!(
                "Swarm initialized: current node ({}) is now a manager.\n",
                id.as_str().unwrap_or_default()
            );
            let node =
                api.request("GET", &format!("/nodes/{}", id.as_str().unwrap_or_default()), None)?;
            let swarm = api.request("GET", "/swarm", None)?;
            println!("To add a worker to this swarm, run the following command:\n");
            let (token, addr) = (&swarm["JoinTokens"]["Worker"], &node["ManagerStatus"]["Addr"]);
            println!(
                "    docker swarm join --token {} {}\n",
                token.as_str().unwrap_or_default(),
                addr.as_str().unwrap_or_default()
            );
            Ok(())
        }
        SwarmCommand::Join { token, advertise_addr, listen_addr, remote } => {
            let body = json!({"JoinToken": token, "RemoteAddrs": [remote], "AdvertiseAddr": advertise_addr, "ListenAddr": listen_addr});
            api.request("POST", "/swarm/join", Some(&body))?;
            let info = api.request("GET", "/info", None)?;
            let role = if info["Swarm"]["ControlAvailable"].as_bool() == Some(true) {
                "manager"
            } else {
                "worker"
            };
            println!("This node joined a swarm as a {role}.");
            Ok(())
        }
        SwarmCommand::JoinToken { quiet, role } => {
            let key = match role.as_str() {
                "worker" => "Worker",
                "manager" => "Manager",
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unknown role {role}: use worker or manager"
                    )))
                }
            };
            let swarm = api.request("GET", "/swarm", None)?;
            let token = swarm["JoinTokens"][key].as_str().unwrap_or_default().to_string();
            match quiet {
                true => println!("{token}"),
                false => println!("To add a {role} to this swarm, run the following command:\n\n    docker swarm join --token {token}\n"),
            }
            Ok(())
        }
        SwarmCommand::Leave { force } => {
            api.request("POST", &format!("/swarm/leave?force={}", u8::from(force)), None)?;
            println!("Node left the swarm.");
            Ok(())
        }
    }
}

pub fn node(api: &Remote, command: NodeCommand) -> Result<()> {
    match command {
        NodeCommand::Ls => {
            let me = api.request("GET", "/info", None)?["Swarm"]["NodeID"].clone();
            let nodes = api.request("GET", "/nodes", None)?;
            let mut rows = vec![["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"]
                .iter()
                .map(|s| s.to_string())
                .collect()];
            for n in nodes.as_array().into_iter().flatten() {
                let star = if n["ID"] == me { " *" } else { "" };
                let leader = if n["ManagerStatus"]["Leader"].as_bool() == Some(true) {
                    "Leader"
                } else {
                    ""
                };
                rows.push(vec![
                    format!("{}{star}", text(&n["ID"])),
                    text(&n["Description"]["Hostname"]),
                    capitalize(&text(&n["Status"]["State"])),
                    capitalize(&text(&n["Spec"]["Availability"])),
                    leader.to_string(),
                ]);
            }
            print_table(&rows);
            Ok(())
        }
        NodeCommand::Inspect { nodes } => inspect(api, "nodes", &nodes),
    }
}

pub fn service(api: &Remote, command: ServiceCommand) -> Result<()> {
    match command {
        ServiceCommand::Create(args) => create(api, args),
        ServiceCommand::Ls => ls(api),
        ServiceCommand::Ps { service } => ps(api, &service),
        ServiceCommand::Inspect { services } => inspect(api, "services", &services),
        ServiceCommand::Scale { detach, scales } => scale(api, detach, &scales),
        ServiceCommand::Update(args) => update(api, args),
        ServiceCommand::Rm { services } => {
            for service in services {
                api.request("DELETE", &format!("/services/{}", Remote::encode(&service)), None)?;
                println!("{service}");
            }
            Ok(())
        }
    }
}

// ANCHOR: create
/// `service create`: a ServiceSpec as the docker CLI builds it.
fn create(api: &Remote, args: CreateArgs) -> Result<()> {
    let mut spec = json!({
        "TaskTemplate": {"ContainerSpec": {"Image": args.image, "Args": args.command, "Env": args.env}},
        "Mode": {"Replicated": {"Replicas": args.replicas}},
    });
    if let Some(name) = &args.name {
        spec["Name"] = json!(name);
    }
    spec["EndpointSpec"] = json!({"Ports": ports(&args.publish)?});
    spec["UpdateConfig"] = json!({"Parallelism": args.update_parallelism.unwrap_or(1),
                                  "Delay": args.update_delay.as_ref().map_or(0, nanos)});
    if let Some(grace) = &args.stop_grace_period {
        spec["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] = json!(nanos(grace));
    }
    if let Some(delay) = &args.restart_delay {
        spec["TaskTemplate"]["RestartPolicy"] = json!({"Condition": "any", "Delay": nanos(delay)});
    }
    let created = api.request("POST", "/services/create", Some(&spec))?;
    let id = text(&created["ID"]);
    println!("{id}");
    if !args.detach {
        wait_converged(api, &id)?;
    }
    Ok(())
}
// ANCHOR_END: create

/// `-p 8080:80[/tcp]` → an EndpointPortConfig.
fn ports(publish: &[String]) -> Result<Vec<Value>> {
    publish
        .iter()
        .map(|p| {
            let spec = p.trim_end_matches("/tcp");
            let (published, target) = spec.split_once(':').unwrap_or(("0", spec));
            let bad = || ApiError::bad_request(format!("invalid publish spec {p:?}: use PUBLISHED:TARGET"));
            let target: u16 = target.parse().map_err(|_| bad())?;
            let published: u16 = published.parse().map_err(|_| bad())?;
            Ok(json!({"Protocol": "tcp", "TargetPort": target, "PublishedPort": published, "PublishMode": "ingress"}))
        })
        .collect()
}

/// Poll until the service's running tasks match its replicas (60 s at most).
fn wait_converged(api: &Remote, id: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        let listed = api.request(
            "GET",
            &format!(
                "/services?status=true&filters={}",
                Remote::encode(&format!("{{\"id\":{{\"{id}\":true}}}}"))
            ),
            None,
        )?;
        let status = &listed[0]["ServiceStatus"];
        let (running, desired) = (
            status["RunningTasks"].as_u64().unwrap_or(0),
            status["DesiredTasks"].as_u64().unwrap_or(0),
        );
        let line = format!("overall progress: {running} out of {desired} tasks");
        if line != last {
            println!("{line}");
            last = line;
        }
        if running == desired {
            println!("verify: Service {id} converged");
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ApiError::new(
                1,
                format!("service {id} did not converge within 60 seconds"),
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ls(api: &Remote) -> Result<()> {
    let services = api.request("GET", "/services?status=true", None)?;
    let mut rows = vec![["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"]
        .iter()
        .map(|s| s.to_string())
        .collect()];
    for s in services.as_array().into_iter().flatten() {
        let status = &s["ServiceStatus"];
        let ports: Vec<String> = s["Endpoint"]["Ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!("*:{}->{}/{}", p["PublishedPort"], p["TargetPort"], text(&p["Protocol"]))
            })
            .collect();
        rows.push(vec![
            short(&text(&s["ID"])),
            text(&s["Spec"]["Name"]),
            "replicated".into(),
            format!("{}/{}", status["RunningTasks"], status["DesiredTasks"]),
            text(&s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]),
            ports.join(", "),
        ]);
    }
    print_table(&rows);
    Ok(())
}

fn ps(api: &Remote, service: &str) -> Result<()> {
    let found = api.request("GET", &format!("/services/{}", Remote::encode(service)), None)?;
    let (id, name) = (text(&found["ID"]), text(&found["Spec"]["Name"]));
    let filters = Remote::encode(&format!("{{\"service\":{{\"{id}\":true}}}}"));
    let tasks = api.request("GET", &format!("/tasks?filters={filters}"), None)?;
    let nodes = api.request("GET", "/nodes", None)?;
    let hostname = |node: &Value| {
        let found = nodes.as_array().into_iter().flatten().find(|n| n["ID"] == *node);
        found.map(|n| text(&n["Description"]["Hostname"])).unwrap_or_default()
    };
    let mut tasks: Vec<&Value> = tasks.as_array().into_iter().flatten().collect();
    tasks.sort_by_key(|t| (t["Slot"].as_u64(), std::cmp::Reverse(text(&t["CreatedAt"]))));
    let mut rows = vec![["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"]
        .iter()
        .map(|s| s.to_string())
        .collect()];
    let mut previous_slot = None;
    for t in tasks {
        let slot = t["Slot"].as_u64();
        let prefix = if previous_slot == slot { " \\_ " } else { "" };
        previous_slot = slot;
        rows.push(vec![
            short(&text(&t["ID"])),
            format!("{prefix}{name}.{}", slot.unwrap_or(0)),
            text(&t["Spec"]["ContainerSpec"]["Image"]),
            hostname(&t["NodeID"]),
            capitalize(&text(&t["DesiredState"])),
            format!(
                "{} {}",
                capitalize(&text(&t["Status"]["State"])),
                ago(&text(&t["Status"]["Timestamp"]))
            ),
            t["Status"]["Err"].as_str().map(|e| format!("\"{e}\"")).unwrap_or_default(),
        ]);
    }
    print_table(&rows);
    Ok(())
}

/// `service scale web=5`: inspect, set the count, update with the version.
fn scale(api: &Remote, detach: bool, scales: &[String]) -> Result<()> {
    for pair in scales {
        let (name, count) = pair.split_once('=').ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid scale specifier '{pair}'.\nSee 'mini-docker service scale --help'."
            ))
        })?;
        let count: u64 = count.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid replicas value {count}: the replica count must be a number"
            ))
        })?;
        let service = api.request("GET", &format!("/services/{}", Remote::encode(name)), None)?;
        let mut spec = service["Spec"].clone();
        spec["Mode"] = json!({"Replicated": {"Replicas": count}});
        put(api, &service, &spec)?;
        println!("{name} scaled to {count}");
        if !detach {
            wait_converged(api, &text(&service["ID"]))?;
        }
    }
    Ok(())
}

fn update(api: &Remote, args: UpdateArgs) -> Result<()> {
    let service =
        api.request("GET", &format!("/services/{}", Remote::encode(&args.service)), None)?;
    let mut spec = service["Spec"].clone();
    if let Some(image) = &args.image {
        spec["TaskTemplate"]["ContainerSpec"]["Image"] = json!(image);
    }
    if let Some(replicas) = args.replicas {
        spec["Mode"] = json!({"Replicated": {"Replicas": replicas}});
    }
    if !args.env_add.is_empty() {
        let mut env: Vec<Value> =
            spec["TaskTemplate"]["ContainerSpec"]["Env"].as_array().cloned().unwrap_or_default();
        for added in &args.env_add {
            let key = added.split('=').next().unwrap_or_default();
            env.retain(|e| e.as_str().and_then(|e| e.split('=').next()) != Some(key));
            env.push(json!(added));
        }
        spec["TaskTemplate"]["ContainerSpec"]["Env"] = json!(env);
    }
    if let Some(parallelism) = args.update_parallelism {
        spec["UpdateConfig"]["Parallelism"] = json!(parallelism);
    }
    if let Some(delay) = &args.update_delay {
        spec["UpdateConfig"]["Delay"] = json!(nanos(delay));
    }
    put(api, &service, &spec)?;
    println!("{}", args.service);
    if !args.detach {
        wait_converged(api, &text(&service["ID"]))?;
    }
    Ok(())
}

/// `POST /services/{id}/update?version=N` with the whole new spec.
fn put(api: &Remote, service: &Value, spec: &Value) -> Result<()> {
    let version = &service["Version"]["Index"];
    let path = format!("/services/{}/update?version={version}", text(&service["ID"]));
    api.request("POST", &path, Some(spec)).map(drop)
}

fn inspect(api: &Remote, kind: &str, names: &[String]) -> Result<()> {
    let mut found = Vec::new();
    for name in names {
        found.push(api.request("GET", &format!("/{kind}/{}", Remote::encode(name)), None)?);
    }
    println!("{}", serde_json::to_string_pretty(&found).expect("JSON values serialize"));
    Ok(())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// "5 seconds ago", from an RFC 3339 time.
fn ago(timestamp: &str) -> String {
    let Ok(then) = humantime::parse_rfc3339(timestamp) else { return String::new() };
    let secs = std::time::SystemTime::now().duration_since(then).unwrap_or_default().as_secs();
    match secs {
        0 => "less than a second ago".into(),
        1 => "1 second ago".into(),
        s if s < 60 => format!("{s} seconds ago"),
        s if s < 120 => "about a minute ago".into(),
        s => format!("{} minutes ago", s / 60),
    }
}

/// Columns three spaces apart, as the docker CLI's tabwriter prints them.
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<width$}", width = widths[c]))
            .collect();
        println!("{}", cells.join("   ").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_and_bad_ones() {
        assert_eq!(ports(&["8080:80".into()]).unwrap()[0]["PublishedPort"], 8080);
        assert_eq!(ports(&["80".into()]).unwrap()[0]["PublishedPort"], 0);
        assert!(ports(&["x:80".into()]).unwrap_err().message.contains("PUBLISHED:TARGET"));
    }

    #[test]
    fn words_and_times_as_the_cli_prints_them() {
        assert_eq!(capitalize("running"), "Running");
        assert_eq!(ago("not a time"), "");
        let now = humantime::format_rfc3339(std::time::SystemTime::now()).to_string();
        assert!(ago(&now).ends_with("ago"));
    }
}
