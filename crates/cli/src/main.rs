//! The `delever` binary: parse arguments, run the command, exit with its code.

fn main() {
    std::process::exit(delever_cli::main());
}
