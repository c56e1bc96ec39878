//! Every page of the built book renders: opened in headless Chromium, its
//! DOM (after scripts ran) keeps no raw `{{#` directive, every `<img>`
//! names a file of the book that is not empty, and every picture svgbob
//! drew (`<svg class="svgbob">`) has a size and something in it.

use std::path::{Path, PathBuf};
use std::process::Command;

// ANCHOR: check_dom
/// What is wrong with one page, given the DOM Chromium built from it.
pub fn check_dom(page: &Path, dom: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if dom.contains("{{#") {
        problems.push("a raw `{{#` directive is left in the page".to_string());
    }
    for src in attribute_values(dom, "img", "src") {
        if src.starts_with("data:") || src.contains("://") {
            continue;
        }
        let file =
            page.parent().unwrap_or(Path::new(".")).join(src.split(['#', '?']).next().unwrap());
        match std::fs::metadata(&file) {
            Ok(meta) if meta.len() > 0 => {}
            Ok(_) => problems.push(format!("image {src} is empty")),
            Err(_) => problems.push(format!("image {src} does not exist (broken image)")),
        }
    }
    for svg in elements(dom, "svg").into_iter().filter(|svg| svg.contains("class=\"svgbob\"")) {
        let size =
            ["width", "height"].map(|a| attribute(svg, a).and_then(|v| v.parse::<f64>().ok()));
        if size.iter().any(|s| !s.is_some_and(|s| s > 0.0))
            || !svg.contains("<text") && !svg.contains("<line") && !svg.contains("<path")
        {
            problems.push("a picture (svgbob) is empty or has no size".to_string());
        }
    }
    problems
}
// ANCHOR_END: check_dom

/// The text of every `<TAG …>…</TAG>` (or the opening tag alone, unclosed).
fn elements<'a>(dom: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut found = Vec::new();
    for (at, _) in dom.match_indices(open.as_str()) {
        let rest = &dom[at..];
        let next = rest[open.len()..].chars().next().unwrap_or('>');
        if !(next.is_whitespace() || next == '>' || next == '/') {
            continue; // <imgx>, <svgfoo>
        }
        let end = rest.find(&close).or_else(|| rest.find('>')).unwrap_or(rest.len());
        found.push(&rest[..end]);
    }
    found
}

/// The value of `name="…"` in the opening tag of `element`.
fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let tag = &element[..element.find('>').unwrap_or(element.len())];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

fn attribute_values<'a>(dom: &'a str, tag: &'a str, name: &'a str) -> Vec<&'a str> {
    elements(dom, tag).into_iter().filter_map(|e| attribute(e, name)).collect()
}

/// The DOM of `page` after its scripts ran, from headless Chromium.
pub fn dump_dom(chromium: &str, page: &Path) -> Result<String, String> {
    let profile = tempfile_dir()?;
    let out = Command::new("timeout")
        .args(["60", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"])
        .args(["--no-first-run", "--disable-background-networking", "--disable-component-update"])
        .args(["--disable-sync", "--allow-file-access-from-files"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("running {chromium}: {e} (apt-get install chromium)"));
    let _ = std::fs::remove_dir_all(&profile);
    let out = out?;
    if !out.status.success() {
        return Err(format!("{chromium} failed on {}: {}", page.display(), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("book-check-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Every page of the built book `html_dir` (`*.html`, the print page
/// aside: it repeats every chapter), with what is wrong in each.
pub fn check_book(chromium: &str, html_dir: &Path) -> Result<Vec<(PathBuf, Vec<String>)>, String> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(html_dir)
        .map_err(|e| format!("{}: {e}", html_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .filter(|p| p.file_name().is_some_and(|n| n != "print.html" && n != "404.html"))
        .collect();
    pages.sort();
    let mut found = Vec::new();
    for page in pages {
        let dom = dump_dom(chromium, &page)?;
        found.push((page.clone(), check_dom(&page, &dom)));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with_image() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.svg"), "<svg/>").unwrap();
        std::fs::write(dir.path().join("empty.png"), "").unwrap();
        dir
    }

    #[test]
    fn a_page_with_good_pictures_passes() {
        let dir = dir_with_image();
        let page = dir.path().join("ch.html");
        let dom = "<p><img alt=\"x\" src=\"good.svg\"></p>\
                   <svg xmlns=\"x\" width=\"624\" height=\"352\" class=\"svgbob\"><text>a</text></svg>";
        assert_eq!(check_dom(&page, dom), Vec::<String>::new());
    }

    #[test]
    fn a_broken_image_fails() {
        let dir = dir_with_image();
        let page = dir.path().join("ch.html");
        let problems = check_dom(&page, "<img src=\"pictures/gone.svg\"><img src=\"empty.png\">");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("gone.svg does not exist"), "{problems:?}");
        assert!(problems[1].contains("empty.png is empty"), "{problems:?}");
    }

    #[test]
    fn an_empty_picture_or_a_raw_directive_fails() {
        let page = Path::new("/nowhere/ch.html");
        let empty = "<svg width=\"0\" height=\"10\" class=\"svgbob\"></svg>";
        assert_eq!(check_dom(page, empty).len(), 1);
        let raw = "<pre>{{#include ../gone.rs:spawn}}</pre>";
        assert!(check_dom(page, raw)[0].contains("raw"));
    }
}
