//! The entrywatch binary: parse the command line, call into the library, map errors to exit codes.

fn main() {
    std::process::exit(entrywatch::cli::main());
}
