//! How chapter 6 plugs into chapter 5's engine: a container's network is
//! prepared when it starts and released when it stops.
//!
//! ```text
//! create   check --network names a network; drop -p with --network host
//! start    Attachment::prepare (address, ports, rules), the veth parent hook,
//!          /etc/hosts gets the address, the others learn the name
//! running  the userland proxies start
//! stopped  Attachment::release (under the shim: release_exited);  rm / crash: release_container
//! ```

use std::path::Path;

use ch05_run::{ContainerConfig, Creating, Extension, Running, Settings, Starting, State};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::attach::{
    endpoint_of, release_container, release_exited, AttachRequest, Attachment, NetworkMode,
};
use crate::network::{Networks, DEFAULT_NETWORK};
use crate::ports::PortMapping;

// ANCHOR: settings
/// `--network` and `-p`, kept in the container's config under `"network"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSettings {
    pub mode: NetworkMode,
    pub ports: Vec<PortMapping>,
}

impl Settings for NetworkSettings {
    const KEY: &'static str = "network";
}
// ANCHOR_END: settings

/// Chapter 6's extension of the engine.
pub struct Networking;

// ANCHOR: extension
impl Extension for Networking {
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        let mut settings: NetworkSettings = creating.request.get()?;
        if settings.mode == NetworkMode::Host && !settings.ports.is_empty() {
            let warning = "Published ports are discarded when using host network mode";
            creating.warnings.push(warning.to_string());
            settings.ports.clear();
        }
        if let NetworkMode::Bridge(name) = &settings.mode {
            if name != DEFAULT_NETWORK {
                Networks::new(creating.root).get(name)?;
            }
        }
        creating.config.extensions.set(&settings);
        Ok(())
    }

    fn start(&self, starting: &mut Starting) -> anyhow::Result<Box<dyn Running>> {
        let settings: NetworkSettings = starting.config.extensions.get()?;
        let config = starting.config;
        let attachment = Attachment::prepare(&AttachRequest {
            root: starting.root,
            container_id: &config.id,
            name: &config.name,
            hostname: &config.hostname,
            hosts_file: starting.dir.join("hosts"),
            mode: &settings.mode,
            ports: &settings.ports,
        })?;
        starting.spawn.namespaces.net = attachment.own_namespace();
        starting.address = attachment.ip();
        for hook in [attachment.parent_hook(), attachment.announce_hook()].into_iter().flatten() {
            starting.spawn.parent_hook(hook);
        }
        Ok(Box::new(Attached(attachment)))
    }

    fn release(&self, root: &Path, config: &ContainerConfig) {
        let _ = release_container(root, &config.id);
    }
    // ANCHOR_END: extension

    fn exited(&self, root: &Path, config: &ContainerConfig) {
        let _ = release_exited(root, &config.id);
    }

    fn inspect(&self, root: &Path, config: &ContainerConfig, _: &State, described: &mut Value) {
        let Ok(settings) = config.extensions.get::<NetworkSettings>() else { return };
        described["HostConfig"]["NetworkMode"] = json!(settings.mode.to_string());
        described["HostConfig"]["PortBindings"] =
            Value::Object(crate::inspect::port_map(&settings.ports));
        described["NetworkSettings"] =
            crate::inspect::network_settings(root, &config.id, &settings.mode);
    }

    fn summarize(&self, root: &Path, config: &ContainerConfig, summary: &mut Value) {
        let Ok(settings) = config.extensions.get::<NetworkSettings>() else { return };
        summary["HostConfig"]["NetworkMode"] = json!(settings.mode.to_string());
        let published = endpoint_of(root, &config.id).map(|(_, e)| e.ports).unwrap_or_default();
        summary["Ports"] = published.iter().map(api_port).collect();
        let described = crate::inspect::network_settings(root, &config.id, &settings.mode);
        summary["NetworkSettings"] = json!({ "Networks": described["Networks"] });
    }
}

/// One published port as the Engine API's container list shows it.
fn api_port(port: &PortMapping) -> Value {
    json!({
        "IP": port.host_ip.to_string(),
        "PrivatePort": port.container_port,
        "PublicPort": port.host_port,
        "Type": port.proto.name(),
    })
}

/// The network of one run of the container.
struct Attached(Attachment);

impl Running for Attached {
    fn started(&mut self, _: Pid) {
        self.0.start_proxies();
    }

    fn stopped(self: Box<Self>) {
        self.0.release();
    }

    fn needs_a_process(&self) -> bool {
        self.0.publishes_ports()
    }
}
