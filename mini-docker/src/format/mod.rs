//! `--format` / `-f`: Docker's Go templates.
//!
//! The template language is Go's `text/template`, through the `gotmpl`
//! crate (a port that keeps Go's output: sorted map keys, `<no value>`,
//! Go's `printf`). What Docker's CLI adds is here:
//! - the extra functions `json`, `split`, `join`, `title`, `lower`,
//!   `upper`, `pad` and `truncate`;
//! - `table TEMPLATE`: a header row (the same template run on the column
//!   names), then the columns aligned ([`tabwriter`]);
//! - the shortcuts `table` (the listing's default table) and `json`
//!   (`{{json .}}`), and `\t` / `\n` written in the shell meaning tab and newline.
//!
//! Each listing hands over its rows as JSON objects whose keys are Docker's
//! field names (`.ID`, `.Repository`, ...), with the header of each field.

mod tabwriter;

use anyhow::{anyhow, Result};
use gotmpl::{Template, Value};

/// Column headers of a listing: field name, header (`("ID", "IMAGE ID")`).
pub type Headers = [(&'static str, &'static str)];

// ANCHOR: format
/// A parsed `--format`.
pub struct Format {
    rows: Template,
    /// For `table`: the template again, with header functions, for the header row.
    header: Option<Template>,
}

impl Format {
    /// Read `--format` as Docker's CLI does (`default_table` is what a bare
    /// `table` means for this listing).
    pub fn parse(text: &str, default_table: &str) -> Result<Format> {
        let text = match text {
            "table" => default_table,
            "json" => "{{json .}}",
            other => other,
        };
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let body = body.trim_matches(' ').replace(r"\t", "\t").replace(r"\n", "\n");
        let header = if table { Some(parse(&body, header_functions())?) } else { None };
        Ok(Format { rows: parse(&body, docker_functions())?, header })
    }
    // ANCHOR_END: format

    // ANCHOR: render
    /// Every row through the template, a line each; for a table, the header
    /// row first (even when there are no rows) and the columns aligned.
    pub fn render(&self, rows: &[serde_json::Value], headers: &Headers) -> Result<String> {
        let mut text = String::new();
        if let Some(header) = &self.header {
            let names: serde_json::Map<String, serde_json::Value> =
                headers.iter().map(|(field, name)| (field.to_string(), (*name).into())).collect();
            text.push_str(&execute(header, &serde_json::Value::Object(names))?);
            text.push('\n');
        }
        for row in rows {
            text.push_str(&execute(&self.rows, row)?);
            text.push('\n');
        }
        Ok(if self.header.is_some() { tabwriter::align(&text) } else { text })
    }
    // ANCHOR_END: render
}

/// `inspect -f`: the template once per object, each followed by a newline.
pub fn render_each(text: &str, objects: &[serde_json::Value]) -> Result<String> {
    let format = Format::parse(text, text)?;
    let mut out = String::new();
    for object in objects {
        out.push_str(&execute(&format.rows, object)?);
        out.push('\n');
    }
    Ok(out)
}

fn parse(body: &str, functions: gotmpl::FuncMap) -> Result<Template> {
    Template::new("")
        .funcs(functions)
        .parse(body)
        .map_err(|e| anyhow!("template parsing error: {e}"))
}

fn execute(template: &Template, data: &serde_json::Value) -> Result<String> {
    let value = gotmpl::to_value(data).map_err(|e| anyhow!("template data: {e}"))?;
    template.execute_to_string(&value).map_err(|e| anyhow!("template parsing error: {e}"))
}

// ANCHOR: functions
/// Docker's functions (docker/cli `templates.basicFunctions`).
fn docker_functions() -> gotmpl::FuncMap {
    let mut functions = gotmpl::FuncMap::new();
    let mut add = |name: &str, f: fn(&[Value]) -> gotmpl::Result<Value>| {
        functions.insert(name.to_string(), std::sync::Arc::new(f));
    };
    add("json", |a| Ok(string(serde_json::to_string(&to_json(arg(a, 0))).unwrap_or_default())));
    add("split", |a| {
        let parts: Vec<Value> = text(a, 0).split(&*text(a, 1)).map(|p| string(p.into())).collect();
        Ok(Value::List(parts.into()))
    });
    add("join", |a| {
        let items: Vec<String> = match arg(a, 0) {
            Value::List(items) => items.iter().map(plain).collect(),
            other => vec![plain(other)],
        };
        Ok(string(items.join(&text(a, 1))))
    });
    add("title", |a| Ok(string(title(&text(a, 0)))));
    add("lower", |a| Ok(string(text(a, 0).to_lowercase())));
    add("upper", |a| Ok(string(text(a, 0).to_uppercase())));
    add("pad", |a| Ok(string(pad(&text(a, 0), number(a, 1), number(a, 2)))));
    add("truncate", |a| Ok(string(text(a, 0).chars().take(number(a, 1)).collect())));
    functions
}

/// For the header row: the same names, each giving back its first argument,
/// so that `{{json .Labels}}` heads its column `LABELS`, not `"LABELS"`.
fn header_functions() -> gotmpl::FuncMap {
    let mut functions = gotmpl::FuncMap::new();
    for name in ["json", "split", "join", "title", "lower", "upper", "pad", "truncate"] {
        let first: fn(&[Value]) -> gotmpl::Result<Value> = |a| Ok(arg(a, 0).clone());
        functions.insert(name.to_string(), std::sync::Arc::new(first));
    }
    functions
}
// ANCHOR_END: functions

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// An argument as a string, as Go's `%v` prints it.
fn text(args: &[Value], i: usize) -> String {
    plain(arg(args, i))
}

fn plain(value: &Value) -> String {
    match value {
        Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn number(args: &[Value], i: usize) -> usize {
    arg(args, i).as_int().unwrap_or(0).max(0) as usize
}

fn string(text: String) -> Value {
    Value::String(text.into())
}

/// Go's `strings.Title`: the first letter of each word in upper case.
fn title(text: &str) -> String {
    let mut out = String::new();
    let mut at_start = true;
    for c in text.chars() {
        out.extend(if at_start { c.to_uppercase().collect::<Vec<_>>() } else { vec![c] });
        at_start = !c.is_alphanumeric();
    }
    out
}

/// Docker's `pad`: spaces before and after, nothing for an empty string.
fn pad(text: &str, before: usize, after: usize) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("{}{text}{}", " ".repeat(before), " ".repeat(after))
}

/// A template value back as JSON (for `json`): maps come out with sorted keys.
fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(n) => (*n).into(),
        Value::Uint(n) => (*n).into(),
        Value::Float(n) => (*n).into(),
        Value::String(s) => s.to_string().into(),
        Value::List(items) => items.iter().map(to_json).collect(),
        Value::Map(map) => map.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect(),
        #[allow(unreachable_patterns)]
        other => other.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IMAGE_HEADERS: &Headers =
        &[("ID", "IMAGE ID"), ("Repository", "REPOSITORY"), ("Tag", "TAG")];

    fn images() -> Vec<serde_json::Value> {
        vec![
            json!({"ID": "77af4d6b9913", "Repository": "<none>", "Tag": "<none>"}),
            json!({"ID": "b6fa739cedf5", "Repository": "committ", "Tag": "latest"}),
        ]
    }

    fn each(template: &str, object: serde_json::Value) -> String {
        render_each(template, &[object]).unwrap()
    }

    /// `docker images --format "{{.ID}}: {{.Repository}}"` (Docker's docs).
    #[test]
    fn a_template_is_one_line_per_row() {
        let format = Format::parse("{{.ID}}: {{.Repository}}", "").unwrap();
        assert_eq!(
            format.render(&images(), IMAGE_HEADERS).unwrap(),
            "77af4d6b9913: <none>\nb6fa739cedf5: committ\n"
        );
    }

    /// `docker images --format "table {{.ID}}\t{{.Repository}}\t{{.Tag}}"`.
    #[test]
    fn a_table_has_a_header_and_aligned_columns() {
        let format = Format::parse(r"table {{.ID}}\t{{.Repository}}\t{{.Tag}}", "").unwrap();
        assert_eq!(
            format.render(&images(), IMAGE_HEADERS).unwrap(),
            "IMAGE ID       REPOSITORY   TAG\n\
             77af4d6b9913   <none>       <none>\n\
             b6fa739cedf5   committ      latest\n"
        );
        let bare = Format::parse("table", r"table {{.Repository}}\t{{.Tag}}").unwrap();
        assert_eq!(bare.render(&[], IMAGE_HEADERS).unwrap(), "REPOSITORY   TAG\n");
        let headed = Format::parse(r"table {{upper .Tag}}\t{{json .Repository}}", "").unwrap();
        let text = headed.render(&images()[1..], IMAGE_HEADERS).unwrap();
        assert_eq!(
            text, "TAG       REPOSITORY\nLATEST    \"committ\"\n",
            "functions leave headers alone"
        );
    }

    /// Docker's inspect examples: nested fields, `range`, `index`, `json`.
    #[test]
    fn inspect_templates_reach_into_the_object() {
        let container = json!({
            "Name": "/web",
            "LogPath": "/var/lib/mini-docker/containers/abc/log.json",
            "Args": ["-c", "echo hi"],
            "Config": {"Image": "busybox:latest", "Env": ["PATH=/bin"], "Labels": {"b": "2", "a": "1"}},
            "State": {"Status": "running", "Pid": 4242},
            "NetworkSettings": {
                "IPAddress": "10.77.0.2",
                "Networks": {"bridge": {"IPAddress": "10.77.0.2"}},
                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]},
            },
        });
        let c = || container.clone();
        assert_eq!(each("{{.NetworkSettings.IPAddress}}", c()), "10.77.0.2\n");
        assert_eq!(
            each("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c()),
            "10.77.0.2\n"
        );
        assert_eq!(each("{{.LogPath}}", c()), "/var/lib/mini-docker/containers/abc/log.json\n");
        assert_eq!(
            each("{{json .Config}}", c()),
            "{\"Env\":[\"PATH=/bin\"],\"Image\":\"busybox:latest\",\"Labels\":{\"a\":\"1\",\"b\":\"2\"}}\n"
        );
        assert_eq!(
            each("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}", c()),
            " 80/tcp -> 8080 \n"
        );
        assert_eq!(each("{{join .Args \" , \"}}", c()), "-c , echo hi\n");
        assert_eq!(each("{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", c()), "up\n");
        assert_eq!(each("{{.State.Pid}} {{.Nosuch}}", c()), "4242 <no value>\n");
        assert_eq!(
            each("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", c()),
            "a=1 b=2 \n"
        );
    }

    /// The functions Docker adds, as its docs show them.
    #[test]
    fn dockers_functions() {
        let object =
            json!({"Name": "my container", "Image": "ubuntu:latest", "ID": "0123456789ab"});
        let o = || object.clone();
        assert_eq!(
            each("{{upper .Name}} {{lower \"ABC\"}} {{title .Name}}", o()),
            "MY CONTAINER abc My Container\n"
        );
        assert_eq!(each("{{split .Image \":\"}}", o()), "[ubuntu latest]\n");
        assert_eq!(each("{{join (split .Image \":\") \"/\"}}", o()), "ubuntu/latest\n");
        assert_eq!(each("[{{pad .ID 2 1}}] [{{pad \"\" 2 1}}]", o()), "[  0123456789ab ] []\n");
        assert_eq!(each("{{truncate .ID 5}}", o()), "01234\n");
        assert_eq!(
            each("json", json!({"b": [1, null], "a": true})),
            "{\"a\":true,\"b\":[1,null]}\n"
        );
    }

    #[test]
    fn a_bad_template_is_one_line_saying_where() {
        let error = Format::parse("{{.ID", "").err().unwrap().to_string();
        assert_eq!(error, "template parsing error: template: 1:6: unclosed action");
        let error = render_each("{{nosuch .ID}}", &[json!({})]).unwrap_err().to_string();
        assert!(error.starts_with("template parsing error: ") && !error.contains('\n'), "{error}");
    }
}
