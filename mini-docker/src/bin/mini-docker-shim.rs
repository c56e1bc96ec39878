//! `mini-docker-shim`: what a detached container's supervisor becomes once
//! the container runs (chapter 5's shim; see `ch05_run::relay`).

fn main() {
    ch05_run::relay::handover::main()
}
