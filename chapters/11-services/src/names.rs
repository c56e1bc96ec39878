//! A name for a service created without `--name`, as dockerd makes one:
//! an adjective and a scientist (`moby/pkg/namesgenerator`, much shortened).

const LEFT: [&str; 12] = [
    "admiring", "bold", "brave", "clever", "eager", "focused", "gifted", "happy", "keen", "loving",
    "nifty", "quirky",
];
const RIGHT: [&str; 12] = [
    "babbage", "curie", "dijkstra", "euler", "hopper", "knuth", "lamport", "liskov", "lovelace",
    "noether", "ritchie", "turing",
];

pub fn random_name() -> String {
    let random = crate::store::random_base36(2).into_bytes();
    format!("{}_{}", LEFT[random[0] as usize % 12], RIGHT[random[1] as usize % 12])
}
