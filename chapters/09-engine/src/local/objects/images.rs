//! The image store as the Engine API shows it: summaries, inspect, tag,
//! delete, prune and load over chapter 4's store; history and save
//! through chapter 10's [`ImageArchive`](crate::objects::ImageArchive).

use std::collections::HashSet;
use std::path::Path;

use ch04_image_pull::digest::short;
use ch04_image_pull::platform::Platform;
use ch04_image_pull::store::{ImageRecord, Store};
use ch04_image_pull::{load, Reference};
use serde_json::{json, Value};

use super::super::Local;
use super::image_filters::ImageFilters;
use crate::error::{ApiError, ApiResult};
use crate::types::Filters;

/// moby's answer for a name that is neither a tag nor an image id.
pub fn no_such_image(name: &str) -> ApiError {
    let full = Reference::parse(name).map(|r| r.familiar()).unwrap_or(name.to_string());
    ApiError::not_found(format!("no such image: {name}: No such image: {full}"))
}

impl Local {
    fn store(&self) -> ApiResult<Store> {
        Store::open(self.root()).map_err(|e| ApiError::new(500, e.to_string()))
    }

    /// The image `name` names, or moby's 404.
    fn resolve_image(&self, store: &Store, name: &str) -> ApiResult<(String, Option<String>)> {
        store
            .resolve(name)
            .map_err(|e| ApiError::bad_request(e.to_string()))?
            .ok_or_else(|| no_such_image(name))
    }

    // ANCHOR: image_list
    /// `GET /images/json`: one summary per image, newest first.
    pub fn images(&self, filters: &Filters) -> ApiResult<Vec<Value>> {
        let filters = ImageFilters::from_api(filters)?;
        let store = self.store()?;
        let tags = store.tags()?;
        let mut images = store.images()?;
        images.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        let mut summaries = Vec::new();
        for image in &images {
            let all: Vec<String> = tags_of(&tags, &image.id);
            if let Some(kept) = filters.keep(&all) {
                summaries.push(summary(image, &kept));
            }
        }
        Ok(summaries)
    }
    // ANCHOR_END: image_list

    /// `GET /images/{name}/json`.
    pub fn image(&self, name: &str) -> ApiResult<Value> {
        let store = self.store()?;
        let (id, _) = self.resolve_image(&store, name)?;
        inspect_json(&store, &store.image(&id)?)
    }

    /// `POST /images/{name}/tag?repo=&tag=`.
    pub fn tag(&self, name: &str, repo: &str, tag: &str) -> ApiResult<()> {
        let target = if tag.is_empty() { repo.to_string() } else { format!("{repo}:{tag}") };
        let target = Reference::parse(&target).map_err(|e| ApiError::bad_request(e.to_string()))?;
        if target.digest.is_some() {
            return Err(ApiError::bad_request(format!(
                "refusing to create a tag with a digest reference: {target}"
            )));
        }
        let store = self.store()?;
        let lock = store.lock()?;
        let (id, _) = self.resolve_image(&store, name)?;
        store.set_tag(&lock, &target.to_string(), &id)?;
        Ok(())
    }

    // ANCHOR: image_remove
    /// `DELETE /images/{name}`: untag a tag; an image's last tag, or an
    /// image named by id, also deletes it — unless a container uses it.
    pub fn remove_image(&self, name: &str, force: bool) -> ApiResult<Vec<Value>> {
        let store = self.store()?;
        let lock = store.lock()?;
        let (id, tag) = self.resolve_image(&store, name)?;
        if images_in_use(self.root()).contains(&id) && !force {
            return Err(ApiError::conflict(format!(
                "conflict: unable to remove {name} (must force) - a container is using image {}",
                short(&id)
            )));
        }
        let tags: Vec<String> =
            store.tags()?.into_iter().filter(|(_, v)| *v == id).map(|(k, _)| k).collect();
        let mut answer = Vec::new();
        let untagged = |tag: &str| json!({ "Untagged": familiar(tag) });
        if let Some(tag) = &tag {
            store.remove_tag(&lock, tag)?;
            answer.push(untagged(tag));
            if tags.len() > 1 {
                return Ok(answer);
            }
        } else if tags.len() > 1 && !force {
            return Err(ApiError::conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in {} tags",
                short(&id),
                tags.len()
            )));
        } else {
            answer.extend(tags.iter().map(|t| untagged(t)));
        }
        store.remove_image(&lock, &id)?;
        answer.push(json!({ "Deleted": id }));
        Ok(answer)
    }
    // ANCHOR_END: image_remove

    /// `POST /images/prune`: the dangling images no container uses (every
    /// unused image with `dangling=false`).
    pub fn prune_images(&self, filters: &Filters) -> ApiResult<Value> {
        let only_dangling = crate::objects::wants(filters, "dangling").unwrap_or(true);
        let store = self.store()?;
        let tags = store.tags()?;
        let in_use = images_in_use(self.root());
        let (mut deleted, mut reclaimed) = (Vec::new(), 0);
        for image in store.images()? {
            let image_tags = tags_of(&tags, &image.id);
            if in_use.contains(&image.id) || (only_dangling && !image_tags.is_empty()) {
                continue;
            }
            let lock = store.lock()?;
            store.remove_image(&lock, &image.id)?;
            deleted.extend(image_tags.iter().map(|t| json!({ "Untagged": t })));
            deleted.push(json!({ "Deleted": image.id }));
            reclaimed += image.size;
        }
        let deleted = if deleted.is_empty() { Value::Null } else { Value::Array(deleted) };
        Ok(json!({ "ImagesDeleted": deleted, "SpaceReclaimed": reclaimed }))
    }

    /// `POST /images/load`: each image loaded, as `docker load` prints it.
    pub fn load_images(&self, archive: &Path, out: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        let store = self.store()?;
        let loaded = load::load(&store, archive, &Platform::host(), &mut |_| {})
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        for image in loaded {
            if image.tags.is_empty() {
                out(&json!({ "stream": format!("Loaded image ID: {}\n", image.image.id) }));
            }
            for tag in image.tags {
                out(&json!({ "stream": format!("Loaded image: {}\n", familiar(&tag)) }));
            }
        }
        Ok(())
    }

    /// `GET /images/{name}/history`, from chapter 10.
    pub fn history(&self, name: &str) -> ApiResult<Vec<Value>> {
        let store = self.store()?;
        let (id, _) = self.resolve_image(&store, name)?;
        Ok(self.archive()?.history(self.root(), &id)?)
    }

    /// `GET /images/get?names=`, from chapter 10. Every name is checked
    /// before the first byte, while an error can still be a status.
    pub fn save(&self, names: &[String], out: &mut dyn std::io::Write) -> ApiResult<()> {
        let store = self.store()?;
        let tags = store.tags()?;
        for name in names {
            let repository = |t: &String| {
                Reference::parse(t).is_ok_and(|r| r.familiar_name() == familiar_name(name))
            };
            if self.resolve_image(&store, name).is_err() && !tags.keys().any(repository) {
                return Err(ApiError::not_found(format!("reference does not exist: {name}")));
            }
        }
        Ok(self.archive()?.save(self.root(), names, out)?)
    }

    fn archive(&self) -> ApiResult<&dyn crate::objects::ImageArchive> {
        self.archive.get().ok_or_else(|| {
            ApiError::new(501, "this engine was built without chapter 10 (history, save)")
        })
    }
}

fn familiar(tag: &str) -> String {
    Reference::parse(tag).map(|r| r.familiar()).unwrap_or(tag.to_string())
}

fn familiar_name(name: &str) -> String {
    Reference::parse(name).map(|r| r.familiar_name()).unwrap_or(name.to_string())
}

/// The tags that point at `id`, in their familiar form (`busybox:latest`).
fn tags_of(tags: &std::collections::BTreeMap<String, String>, id: &str) -> Vec<String> {
    tags.iter().filter(|(_, v)| *v == id).map(|(tag, _)| familiar(tag)).collect()
}

// ANCHOR: summary
/// moby's `ImageSummary`: sizes and counts it does not compute are -1.
fn summary(image: &ImageRecord, tags: &[String]) -> Value {
    json!({
        "Id": image.id,
        "ParentId": image.parent.clone().unwrap_or_default(),
        "RepoTags": tags,
        "RepoDigests": image.repo_digests,
        "Created": image.created.as_deref().and_then(unix_seconds).unwrap_or(0),
        "Size": image.size,
        "SharedSize": -1,
        "Labels": Value::Null,
        "Containers": -1,
    })
}
// ANCHOR_END: summary

/// Seconds since the epoch of `2024-01-02T03:04:05.678Z` (or with an offset).
pub fn unix_seconds(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, "Z"),
    };
    let mut c = clock.split(':');
    let (h, min) = (c.next()?.parse::<i64>().ok()?, c.next()?.parse::<i64>().ok()?);
    let s = c.next().and_then(|s| s.split('.').next()?.parse::<i64>().ok()).unwrap_or(0);
    let offset_seconds = match offset.as_bytes().first() {
        Some(b'+') | Some(b'-') => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (oh, om) = offset[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
        _ => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s - offset_seconds)
}

/// moby's `ImageInspect`, with where our layers are.
fn inspect_json(store: &Store, image: &ImageRecord) -> ApiResult<Value> {
    let config: Value = serde_json::from_slice(&store.read_blob(&image.id)?)
        .map_err(|e| ApiError::new(500, format!("the config of {}: {e}", short(&image.id))))?;
    let repo_tags = tags_of(&store.tags()?, &image.id);
    let layers: Vec<_> = image.layers.iter().map(|l| store.layer_path(&l.diff_id)).collect();
    Ok(json!({
        "Id": image.id,
        "RepoTags": repo_tags,
        "RepoDigests": image.repo_digests,
        "Parent": image.parent.clone().unwrap_or_default(),
        "Comment": config.get("comment").cloned().unwrap_or(json!("")),
        "Created": image.created,
        "DockerVersion": "",
        "Author": config.get("author").cloned().unwrap_or(json!("")),
        "Config": config.get("config"),
        "Architecture": config.get("architecture"),
        "Os": config.get("os"),
        "Size": image.size,
        "GraphDriver": { "Name": "mini-docker", "Data": { "LowerDir": layers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":") } },
        "RootFS": { "Type": "layers", "Layers": image.layers.iter().map(|l| &l.diff_id).collect::<Vec<_>>() },
        "Metadata": { "LastTagTime": "0001-01-01T00:00:00Z" },
        "Manifest": image.manifest,
        "LayerDirs": layers,
    }))
}

/// Image ids used by containers: `<root>/containers/*/config.json`'s
/// `"image_id"` (chapter 5 writes it).
pub fn images_in_use(root: &Path) -> HashSet<String> {
    let Ok(containers) = std::fs::read_dir(root.join("containers")) else { return HashSet::new() };
    containers
        .flatten()
        .filter_map(|c| std::fs::read(c.path().join("config.json")).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter_map(|config| config.get("image_id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_times_as_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2024-01-02T03:04:05.678Z"), Some(1_704_164_645));
        assert_eq!(unix_seconds("2024-01-02T04:04:05+01:00"), Some(1_704_164_645));
        assert_eq!(no_such_image("nosuch").status, 404);
        assert_eq!(
            no_such_image("nosuch").message,
            "no such image: nosuch: No such image: nosuch:latest"
        );
    }
}
