//! The entrywatch binary: parse the command line, call into the library, map errors to exit codes.

#![forbid(unsafe_code)]

fn main() {
    // `entrywatch entry X | head`: when the reader closes the pipe, stop quietly (exit 0)
    // instead of a panic and a backtrace.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    std::process::exit(entrywatch::cli::main());
}
