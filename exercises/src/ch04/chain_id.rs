//! Exercise `chain_id` (easy). Book: ch04-image-pull.md, "The content store".
//!
//! An unpacked layer is named by its *ChainID*, which identifies it together
//! with every layer below it:
//! `ChainID(L0) = DiffID(L0)`,
//! `ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(n))`,
//! written `sha256:<hex>` (`digest::sha256_of` does the hashing). No layers: None.

use ch04_image_pull::digest::sha256_of;

/// The ChainID of `diff_ids` (bottom layer first).
pub fn chain_id(diff_ids: &[String]) -> Option<String> {
    todo!("start from the first DiffID, fold the others in")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the top layer's DiffID
    // (`diff_ids.last().cloned()`): a DiffID names one layer, a ChainID the stack. Checked by
    // pasting it into the stub: it fails `each_layer_hashes_the_chain_below_it`.
    //
    //     diff_ids.last().cloned()

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch04_image_pull::digest as solution;

    use ch04_image_pull::digest::sha256_of;

    #[test]
    fn one_layer_is_its_own_diff_id() {
        let a = sha256_of(b"a");
        assert_eq!(solution::chain_id(std::slice::from_ref(&a)), Some(a));
        assert_eq!(solution::chain_id(&[]), None);
    }

    #[test]
    fn each_layer_hashes_the_chain_below_it() {
        let (a, b, c) = (sha256_of(b"a"), sha256_of(b"b"), sha256_of(b"c"));
        let ab = sha256_of(format!("{a} {b}").as_bytes());
        assert_eq!(solution::chain_id(&[a.clone(), b.clone()]), Some(ab.clone()));
        let abc = sha256_of(format!("{ab} {c}").as_bytes());
        assert_eq!(solution::chain_id(&[a.clone(), b.clone(), c]), Some(abc));
        assert_ne!(solution::chain_id(&[b, a]), Some(ab), "the order matters");
    }
}
