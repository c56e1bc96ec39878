//! Exercise `substitute` (medium). Book: ch10-images.md, "Commit: a config,
//! a layer, a line of history".
//!
//! In `commit -c 'ENV PATH=${PATH:-/bin}:/opt'`, the Dockerfile's lexer has
//! read `${NAME` and the modifier up to `}`; `value` is NAME's value in the
//! environment (`None`: not set) and `modifier` what came after the name:
//! - `""`: the value (or nothing);
//! - `-word`: the value if NAME is set, else `word`;
//! - `+word`: `word` if NAME is set, else nothing;
//! - `:-word` and `:+word`: the same, but a set and *empty* NAME counts as unset;
//! - anything else: `ChangeError::Syntax("unsupported modifier (<modifier>) in substitution")`.
//!
//! `word` may itself hold variables: give it to
//! `ch10_images::change::word_of(word, env)`.

use ch10_images::change::{word_of, ChangeError};

/// `${NAME<modifier>}`, given NAME's `value`.
pub fn substitute(
    value: Option<String>,
    modifier: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ChangeError> {
    todo!("strip an optional ':', then match on the operator and whether NAME counts as set")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the `:` stripped and then forgotten: NAME counts
    // as set whenever it has a value, so `${EMPTY:-word}` gives the empty value. Checked by
    // pasting it into the reference implementation: it fails
    // `the_colon_makes_empty_count_as_unset`.
    //
    //     let set = value.is_some();

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::change as solution;

    use ch10_images::change::ChangeError;

    fn env(name: &str) -> Option<String> {
        (name == "HOME").then(|| "/root".to_string())
    }

    fn sub(value: Option<&str>, modifier: &str) -> Result<String, ChangeError> {
        solution::substitute(value.map(str::to_string), modifier, &env)
    }

    #[test]
    fn plain_and_default_values() {
        assert_eq!(sub(Some("/bin"), ""), Ok("/bin".into()));
        assert_eq!(sub(None, ""), Ok(String::new()));
        assert_eq!(sub(Some("/bin"), ":-/usr/bin"), Ok("/bin".into()));
        assert_eq!(sub(None, ":-/usr/bin"), Ok("/usr/bin".into()));
        assert_eq!(sub(None, "-/usr/bin"), Ok("/usr/bin".into()));
    }

    #[test]
    fn the_colon_makes_empty_count_as_unset() {
        assert_eq!(sub(Some(""), ":-x"), Ok("x".into()));
        assert_eq!(sub(Some(""), "-x"), Ok(String::new()));
        assert_eq!(sub(Some(""), ":+x"), Ok(String::new()));
        assert_eq!(sub(Some(""), "+x"), Ok("x".into()));
        assert_eq!(sub(Some("v"), ":+set"), Ok("set".into()));
        assert_eq!(sub(None, "+set"), Ok(String::new()));
    }

    #[test]
    fn the_word_is_expanded_and_bad_modifiers_are_errors() {
        assert_eq!(sub(None, ":-$HOME/bin"), Ok("/root/bin".into()));
        let err = sub(Some("v"), ":?nope").unwrap_err();
        assert_eq!(err.to_string(), "unsupported modifier (:?nope) in substitution");
    }
}
