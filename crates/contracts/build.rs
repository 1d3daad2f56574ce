//! The `sol!` bindings read the committed artifacts in `contracts/out/` at compile time, and
//! cargo does not track files a macro reads: without this, new artifacts kept stale bindings.
fn main() {
    println!("cargo:rerun-if-changed=../../contracts/out");
}
