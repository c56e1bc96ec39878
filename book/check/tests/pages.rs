//! The rendered-page check fails on a broken image, for real: a tiny built
//! page is opened in headless Chromium by `book-check pages`.

use std::process::Command;

/// Chromium, or a loud skip (a failure with CI=true).
fn chromium() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    if Command::new(&chromium).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some(chromium);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "no {chromium}: apt-get install chromium"
    );
    eprintln!("!!! SKIPPED: no {chromium} (apt-get install chromium) !!!");
    None
}

fn pages(dir: &std::path::Path) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_book-check")).arg("pages").arg(dir).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn a_broken_image_fails_and_a_good_page_passes() {
    let Some(_) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pic.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>")
        .unwrap();
    let page = dir.path().join("ch.html");
    std::fs::write(&page, "<html><body><img src=\"pic.svg\"></body></html>").unwrap();
    let (ok, err) = pages(dir.path());
    assert!(ok, "{err}");

    std::fs::write(&page, "<html><body><img src=\"pictures/gone.svg\"></body></html>").unwrap();
    let (ok, err) = pages(dir.path());
    assert!(!ok);
    assert!(err.contains("ch.html: image pictures/gone.svg does not exist"), "{err}");
}
