//! Progress bars on stderr, shown only when stderr is a terminal, so that
//! pipelines and cron jobs get clean output.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A spinner counting items (hosts, lines), hidden when stderr is not a TTY.
pub fn counter(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}} {{human_pos}} {what} ({{per_sec}}) [{{elapsed}}]"
        ))
        .expect("static template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
