//! Links the `tokensmith` binary as a position-dependent executable on
//! Linux/glibc. A PIE carries one load-time relocation per pointer in its
//! data (vtables, static tables: ~74,000 here), which the dynamic loader
//! applies at every start; `token generate` spent most of its time there.
//! A fixed load address resolves them at link time. This lives in the
//! repository (not in a cargo config) so a clean clone builds the same way
//! with any linker (bfd, gold, lld, mold); tests and benches stay PIE.
//! The price is ASLR for the executable's own image (libraries, stack and
//! heap are still randomised).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
