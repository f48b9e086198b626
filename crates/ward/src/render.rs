//! The terminal ends of printing: standard output through the clean writer
//! and the progress bar (the views themselves are crate `printer`'s).

/// Standard output through `model::text::CleanWriter`: whatever a command
/// prints (names from traffic, SBOMs, CMMS files, feeds, the database), no
/// escape sequence or bidi control reaches the terminal or a pipe.
pub fn stdout() -> model::text::CleanWriter<std::io::StdoutLock<'static>> {
    model::text::CleanWriter::new(std::io::stdout().lock())
}

/// Standard error through `model::text::CleanWriter` (what a command says
/// beside its output).
pub fn stderr() -> model::text::CleanWriter<std::io::StderrLock<'static>> {
    model::text::CleanWriter::new(std::io::stderr().lock())
}

/// A byte-based progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr_with_hz(10),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// How wide tables print: everything with `--wide`; else `COLUMNS` when set,
/// else the terminal's width when standard output is one; in a pipe or a
/// file the fixed layout (scripts see the same columns as before).
pub fn table_width(wide: bool) -> printer::inventory::Width {
    use printer::inventory::Width;
    if wide {
        return Width::Wide;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Width::Fit(n);
    }
    let term = console::Term::stdout();
    if term.is_term() {
        return Width::Fit(
            term.size_checked()
                .map_or(120, |(_, cols)| usize::from(cols)),
        );
    }
    Width::Fixed
}
