//! The `tokensmith` binary: parse arguments, set up logging, run, exit.

fn main() -> std::process::ExitCode {
    tokensmith::entry::main()
}
