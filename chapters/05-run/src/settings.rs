//! Typed settings of later chapters, kept in a container's `config.json`
//! without chapter 5 knowing their types: each chapter's settings live
//! under its own key, as JSON, and only that chapter reads them.
//!
//! ```text
//! config.json  { "id": …, "argv": …,            chapter 5's own fields
//!                "network": {"mode": "bridge", "ports": […]},   chapter 6
//!                "mounts": [ … ],                               chapter 7
//!                "security": {"cap_add": […], …} }              chapter 8
//! ```

use std::collections::BTreeMap;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

// ANCHOR: settings
/// A chapter's settings type and the key it is stored under.
pub trait Settings: Serialize + DeserializeOwned + Default {
    const KEY: &'static str;
}

/// Every later chapter's settings, by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extensions(BTreeMap<String, Value>);

impl Extensions {
    /// This chapter's settings; the type's default when none were stored.
    pub fn get<S: Settings>(&self) -> anyhow::Result<S> {
        let Some(value) = self.0.get(S::KEY) else { return Ok(S::default()) };
        serde_json::from_value(value.clone())
            .with_context(|| format!("reading the container's {:?} settings", S::KEY))
    }

    pub fn set<S: Settings>(&mut self, settings: &S) {
        let value = serde_json::to_value(settings).expect("settings always serialize");
        self.0.insert(S::KEY.to_string(), value);
    }
}
// ANCHOR_END: settings

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Ports {
        published: Vec<u16>,
    }
    impl Settings for Ports {
        const KEY: &'static str = "ports";
    }

    #[test]
    fn settings_round_trip_under_their_key() {
        let mut all = Extensions::default();
        assert_eq!(all.get::<Ports>().unwrap(), Ports::default());
        all.set(&Ports { published: vec![8080] });
        assert_eq!(all.get::<Ports>().unwrap().published, [8080]);
        assert_eq!(
            serde_json::to_value(&all).unwrap(),
            serde_json::json!({"ports": {"published": [8080]}})
        );
    }

    #[test]
    fn a_wrong_shape_is_an_error_naming_the_key() {
        let all: Extensions = serde_json::from_value(serde_json::json!({"ports": 3})).unwrap();
        let error = all.get::<Ports>().unwrap_err();
        assert!(format!("{error:#}").contains("\"ports\" settings"), "{error:#}");
    }
}
