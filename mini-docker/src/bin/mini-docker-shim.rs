//! `mini-docker-shim`: what a detached container's supervisor becomes once
//! the container runs (chapter 5's shim; see `ch05_shim`).

fn main() {
    ch05_shim::handover::main()
}
