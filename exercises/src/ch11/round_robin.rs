//! Exercise `round_robin` (easy). Book: ch11-services.md, "The routing mesh".
//!
//! Every node's mesh listener hands each new connection to the next
//! backend in turn — a running replica's node port, here or on another
//! node. Its counter of turns only grows (`fetch_add`, shared by every
//! connection), and the list of backends is replaced whenever the manager
//! sends a new table: a replica died, a node went down, the service scaled.
//! So:
//! - no backend at all: `None` (the connection is closed);
//! - otherwise turn 0 is the first backend, turn 1 the second, and after
//!   the last one the first again;
//! - any turn, however large, lands inside the current list.

/// The backend whose turn `turn` is.
pub fn round_robin<T>(backends: &[T], turn: usize) -> Option<&T> {
    todo!("the remainder of the turn by the number of backends")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: `Some(&backends[turn % backends.len()])`: with
    // no backend, a division by zero. Checked by pasting it into the stub: it fails
    // `no_backend_is_none`.
    //
    //     Some(&backends[turn % backends.len()])

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch11_services::mesh as solution;

    #[test]
    fn each_backend_in_turn_then_the_first_again() {
        let backends = ["node1:31000", "node2:31001", "node3:31002"];
        let picked: Vec<&str> =
            (0..7).map(|t| *solution::round_robin(&backends, t).unwrap()).collect();
        assert_eq!(
            picked,
            [
                "node1:31000",
                "node2:31001",
                "node3:31002",
                "node1:31000",
                "node2:31001",
                "node3:31002",
                "node1:31000"
            ]
        );
    }

    #[test]
    fn no_backend_is_none() {
        let none: [&str; 0] = [];
        assert_eq!(solution::round_robin(&none, 0), None);
        assert_eq!(solution::round_robin(&none, 41), None);
    }

    #[test]
    fn a_shrunk_list_still_takes_any_turn() {
        let backends = ["node1:31000", "node3:31002"];
        assert_eq!(solution::round_robin(&backends, usize::MAX), Some(&"node3:31002"));
        assert_eq!(solution::round_robin(&backends, 1_000_001), Some(&"node3:31002"));
        assert_eq!(solution::round_robin(&["only"], 12_345), Some(&"only"));
    }
}
