//! Progress for people. On a terminal, a live view (indicatif): a line per stack with resources
//! done out of the change set's total and the elapsed time, and under it every resource in
//! progress right now with how long it has been at it. Elsewhere (CI logs, pipes), the same
//! information as timestamped lines: every event, with the count done, and every 30 seconds
//! the resources still in progress.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::StackEvent;
use crate::operation::{InFlight, Progress};

/// Where progress goes.
pub trait Reporter: Send + Sync {
    /// A line about the whole run (which account, ...).
    fn note(&self, text: &str);
    /// An operation on `stack` starts; `total` is the number of resources it touches.
    fn start(&self, stack: &str, verb: &str, total: usize);
    /// A new stack event, and where the operation stands after it.
    fn event(&self, stack: &str, event: &StackEvent, progress: &Progress);
    /// Where the operation on `stack` stands, after each poll.
    fn progress(&self, stack: &str, progress: &Progress);
    /// A line about `stack` (change summaries, decisions).
    fn line(&self, stack: &str, text: &str);
    /// The operation on `stack` ended.
    fn finish(&self, stack: &str, text: &str);
    /// Runs `ask` (a question on the terminal) with the live display out of its way.
    fn suspend(&self, ask: &mut dyn FnMut()) {
        ask();
    }
}

use crate::time::now_millis;
pub use crate::time::{clock, span};

/// How long a resource has been in progress (never negative, whatever the clocks say).
fn elapsed_since(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(now_millis() - millis).unwrap_or(0))
}

/// Whether to write colours to a stream: a terminal, and `NO_COLOR` not set
/// (<https://no-color.org>), and `TERM` not `dumb`.
pub fn color_enabled(terminal: bool) -> bool {
    color_for(
        terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var("TERM").ok().as_deref(),
    )
}

/// The decision of [`color_enabled`], from the stream and the environment's values.
fn color_for(terminal: bool, no_color: Option<&std::ffi::OsStr>, term: Option<&str>) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty) && term != Some("dumb")
}

/// Whether colours go to stderr.
pub fn stderr_color() -> bool {
    color_enabled(std::io::stderr().is_terminal())
}

/// `CREATE_FAILED` in red, `*_COMPLETE` in green, `*_IN_PROGRESS` in yellow, when `color`.
fn paint_status(status: &str, color: bool) -> String {
    if !color {
        return status.to_owned();
    }
    let code = if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
        "31"
    } else if status.ends_with("_COMPLETE") {
        "32"
    } else {
        "33"
    };
    format!("\x1b[{code}m{status}\x1b[0m")
}

/// Timestamped lines, for logs and CI: one per event and message, and a line of what is still
/// in progress every `heartbeat`.
pub struct PlainReporter {
    out: Mutex<Box<dyn Write + Send>>,
    width: usize,
    heartbeat: Duration,
    /// Per stack: progress, and when the in-progress line was last written.
    state: Mutex<BTreeMap<String, (Progress, Instant)>>,
}

impl PlainReporter {
    /// Lines to `out`; `width` aligns stack names.
    pub fn new(out: Box<dyn Write + Send>, width: usize) -> PlainReporter {
        PlainReporter::with_heartbeat(out, width, Duration::from_secs(30))
    }

    /// Lines to `out`, with what is in progress every `heartbeat`.
    pub fn with_heartbeat(
        out: Box<dyn Write + Send>,
        width: usize,
        heartbeat: Duration,
    ) -> PlainReporter {
        PlainReporter {
            out: Mutex::new(out),
            width,
            heartbeat,
            state: Mutex::new(BTreeMap::new()),
        }
    }

    fn write(&self, stack: &str, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for line in text.lines() {
            let _ = writeln!(
                out,
                "{}  {:width$}  {line}",
                clock(now_millis()),
                stack,
                width = self.width
            );
        }
        let _ = out.flush();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Progress, Instant)>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `Db (AWS::RDS::DBInstance) 3m10s, Api (AWS::ECS::Service) 45s`.
fn in_flight_list(in_progress: &[InFlight]) -> String {
    in_progress
        .iter()
        .map(|f| {
            format!(
                "{} ({}) {}",
                f.logical_id,
                f.resource_type,
                span(elapsed_since(f.since_millis))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Reporter for PlainReporter {
    fn note(&self, text: &str) {
        self.write("", text);
    }

    fn start(&self, stack: &str, verb: &str, total: usize) {
        self.state().insert(
            stack.to_owned(),
            (
                Progress {
                    total,
                    ..Progress::default()
                },
                Instant::now(),
            ),
        );
        self.write(
            stack,
            &format!(
                "{verb} ({total} resource change{})",
                if total == 1 { "" } else { "s" }
            ),
        );
    }

    fn event(&self, stack: &str, event: &StackEvent, progress: &Progress) {
        let mut text = format!(
            "{:<30} {} {}",
            event.status, event.resource_type, event.logical_id
        );
        if let Some(reason) = &event.reason
            && (event.status.ends_with("_FAILED") || event.status.contains("ROLLBACK"))
        {
            text.push_str(": ");
            text.push_str(reason);
        }
        let terminal = !event.status.ends_with("_IN_PROGRESS");
        if terminal && progress.total > 0 && event.logical_id != stack {
            let _ = write!(text, "  [{}/{}]", progress.done, progress.total);
        }
        self.write(stack, &text);
    }

    fn progress(&self, stack: &str, progress: &Progress) {
        let due = {
            let mut state = self.state();
            let entry = state
                .entry(stack.to_owned())
                .or_insert_with(|| (Progress::default(), Instant::now()));
            let moved = entry.0.done != progress.done;
            entry.0 = progress.clone();
            let due = !progress.in_progress.is_empty() && entry.1.elapsed() >= self.heartbeat;
            if due || moved {
                entry.1 = Instant::now();
            }
            due
        };
        if due {
            self.write(
                stack,
                &format!(
                    "in progress [{}/{}]: {}",
                    progress.done,
                    progress.total,
                    in_flight_list(&progress.in_progress)
                ),
            );
        }
    }

    fn line(&self, stack: &str, text: &str) {
        self.write(stack, text);
    }

    fn finish(&self, stack: &str, text: &str) {
        self.state().remove(stack);
        self.write(stack, text);
    }
}

/// `{span}` in the live view: the bar's elapsed time as [`span`] writes it.
fn span_key(state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write) {
    let _ = write!(out, "{}", span(state.elapsed()));
}

/// The most resources shown under a stack, so the view fits a terminal; the rest are
/// counted ("and N more in progress").
const MAX_SHOWN: usize = 20;

/// One stack's lines in the live view.
struct StackView {
    bar: ProgressBar,
    /// A line per resource in progress, by logical id.
    resources: BTreeMap<String, ProgressBar>,
    /// The line that counts resources not shown.
    more: Option<ProgressBar>,
    verb: String,
}

/// The live view on a terminal: per stack, a bar of resources done out of the change set's
/// total and the elapsed time, and under it each resource in progress with its own elapsed
/// time.
pub struct TtyReporter {
    multi: MultiProgress,
    stacks: Mutex<BTreeMap<String, StackView>>,
    width: usize,
    color: bool,
    /// Lines held back while a question is asked.
    held: Mutex<Option<Vec<String>>>,
    /// Where the view draws (stderr, or a terminal in memory for tests).
    target: Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>,
}

impl TtyReporter {
    /// The view on stderr; `width` aligns stack names.
    pub fn new(width: usize) -> TtyReporter {
        TtyReporter::with_target(width, stderr_color(), Box::new(ProgressDrawTarget::stderr))
    }

    /// The view on the terminal `target` makes, with colours or not.
    pub fn with_target(
        width: usize,
        color: bool,
        target: Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>,
    ) -> TtyReporter {
        TtyReporter {
            multi: MultiProgress::with_draw_target(target()),
            stacks: Mutex::new(BTreeMap::new()),
            width,
            color,
            held: Mutex::new(None),
            target,
        }
    }

    fn stacks(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, StackView>> {
        self.stacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn println(&self, text: String) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match held.as_mut() {
            Some(lines) => lines.push(text),
            None => {
                let _ = self.multi.println(text);
            }
        }
    }

    /// `UPDATE_IN_PROGRESS AWS::RDS::DBInstance Db`.
    fn resource_message(&self, f: &InFlight) -> String {
        format!(
            "{} {} {}",
            paint_status(&f.status, self.color),
            f.resource_type,
            f.logical_id
        )
    }

    fn resource_bar(&self, after: &ProgressBar, f: &InFlight) -> ProgressBar {
        let bar = self.multi.insert_after(after, ProgressBar::new_spinner());
        // The time since the resource's event (wall clock, as CloudFormation stamps it), not
        // since the bar was made.
        let since = f.since_millis;
        let elapsed = move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = write!(out, "{}", span(elapsed_since(since)));
        };
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "  {{spinner}} {:w$}  {{since:>6}}  {{msg}}",
            "",
            w = self.width
        )) {
            bar.set_style(style.with_key("since", elapsed));
        }
        bar.set_message(self.resource_message(f));
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// The view's last line of `view`'s stack, where the next resource line goes.
    fn last_line(view: &StackView) -> ProgressBar {
        view.resources
            .values()
            .last()
            .cloned()
            .unwrap_or_else(|| view.bar.clone())
    }

    /// Whether a question is on the screen (the view is hidden meanwhile).
    fn paused(&self) -> bool {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }
}

impl Reporter for TtyReporter {
    fn note(&self, text: &str) {
        self.println(text.to_owned());
    }

    fn start(&self, stack: &str, verb: &str, total: usize) {
        let bar = self
            .multi
            .add(ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX)));
        let template = format!(
            "{{spinner}} {{prefix:{}}}  {{msg}} [{{bar:20}}] {{pos}}/{{len}}  {{span:>6}}",
            self.width
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> ").with_key("span", span_key));
        }
        bar.set_prefix(stack.to_owned());
        bar.set_message(verb.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.stacks().insert(
            stack.to_owned(),
            StackView {
                bar,
                resources: BTreeMap::new(),
                more: None,
                verb: verb.to_owned(),
            },
        );
    }

    fn event(&self, stack: &str, event: &StackEvent, _progress: &Progress) {
        if event.status.ends_with("_FAILED") {
            let reason = event.reason.clone().unwrap_or_default();
            self.println(format!(
                "{stack:w$}  {} {} {}: {reason}",
                paint_status(&event.status, self.color),
                event.resource_type,
                event.logical_id,
                w = self.width
            ));
        }
    }

    fn progress(&self, stack: &str, progress: &Progress) {
        let mut stacks = self.stacks();
        // While a question is asked nothing draws; the next poll brings the view up to date.
        if self.paused() {
            return;
        }
        let Some(view) = stacks.get_mut(stack) else {
            return;
        };
        view.bar
            .set_length(u64::try_from(progress.total).unwrap_or(u64::MAX));
        view.bar
            .set_position(u64::try_from(progress.done).unwrap_or(u64::MAX));
        let shown: Vec<&InFlight> = progress.in_progress.iter().take(MAX_SHOWN).collect();
        // Resources no longer in progress leave the view.
        let gone: Vec<String> = view
            .resources
            .keys()
            .filter(|id| !shown.iter().any(|f| &f.logical_id == *id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(bar) = view.resources.remove(&id) {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        for f in shown {
            if let Some(bar) = view.resources.get(&f.logical_id) {
                bar.set_message(self.resource_message(f));
            } else {
                let bar = self.resource_bar(&Self::last_line(view), f);
                view.resources.insert(f.logical_id.clone(), bar);
            }
        }
        let hidden = progress.in_progress.len().saturating_sub(MAX_SHOWN);
        match (&view.more, hidden) {
            (Some(more), 0) => {
                more.finish_and_clear();
                self.multi.remove(more);
                view.more = None;
            }
            (Some(more), n) => more.set_message(format!("and {n} more in progress")),
            (None, 0) => {}
            (None, n) => {
                let more = self
                    .multi
                    .insert_after(&Self::last_line(view), ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("    {msg}") {
                    more.set_style(style);
                }
                more.set_message(format!("and {n} more in progress"));
                view.more = Some(more);
            }
        }
        let verb = view.verb.clone();
        view.bar.set_message(verb);
    }

    fn line(&self, stack: &str, text: &str) {
        for line in text.lines() {
            self.println(format!("{stack:w$}  {line}", w = self.width));
        }
    }

    fn finish(&self, stack: &str, text: &str) {
        if let Some(view) = self.stacks().remove(stack) {
            for bar in view.resources.values().chain(view.more.iter()) {
                bar.finish_and_clear();
                self.multi.remove(bar);
            }
            view.bar.finish_and_clear();
            self.multi.remove(&view.bar);
        }
        self.println(format!("{stack:w$}  {text}", w = self.width));
    }

    fn suspend(&self, ask: &mut dyn FnMut()) {
        // Hide the view and hold lines back while the question is on the screen, without
        // holding indicatif's lock (other stacks keep working meanwhile). Under the stacks'
        // lock no progress call draws: stop the ticks, clear, then hide.
        {
            let stacks = self.stacks();
            *self
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Vec::new());
            for view in stacks.values() {
                for bar in std::iter::once(&view.bar)
                    .chain(view.resources.values())
                    .chain(view.more.iter())
                {
                    bar.disable_steady_tick();
                }
            }
            let _ = self.multi.clear();
            self.multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        ask();
        let stacks = self.stacks();
        self.multi.set_draw_target((self.target)());
        for view in stacks.values() {
            view.bar.enable_steady_tick(Duration::from_millis(120));
            for bar in view.resources.values() {
                bar.enable_steady_tick(Duration::from_millis(200));
            }
        }
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        drop(stacks);
        for line in held {
            let _ = self.multi.println(line);
        }
    }
}

/// A reporter that keeps everything, for tests.
#[derive(Default)]
pub struct RecordingReporter {
    lines: Mutex<Vec<String>>,
}

impl RecordingReporter {
    /// An empty record.
    pub fn new() -> Arc<RecordingReporter> {
        Arc::new(RecordingReporter::default())
    }

    /// Everything reported, as `stack: text` lines.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn push(&self, stack: &str, text: &str) {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(format!("{stack}: {text}"));
    }
}

impl Reporter for RecordingReporter {
    fn note(&self, text: &str) {
        self.push("", text);
    }

    fn start(&self, stack: &str, verb: &str, total: usize) {
        self.push(stack, &format!("{verb} ({total})"));
    }

    fn event(&self, stack: &str, event: &StackEvent, progress: &Progress) {
        self.push(
            stack,
            &format!(
                "event {} {} [{}/{}]",
                event.status, event.logical_id, progress.done, progress.total
            ),
        );
    }

    fn progress(&self, stack: &str, progress: &Progress) {
        let ids: Vec<&str> = progress
            .in_progress
            .iter()
            .map(|f| f.logical_id.as_str())
            .collect();
        self.push(
            stack,
            &format!(
                "progress {}/{} [{}]",
                progress.done,
                progress.total,
                ids.join(", ")
            ),
        );
    }

    fn line(&self, stack: &str, text: &str) {
        self.push(stack, text);
    }

    fn finish(&self, stack: &str, text: &str) {
        self.push(stack, text);
    }

    fn suspend(&self, ask: &mut dyn FnMut()) {
        self.push("", "suspended");
        ask();
        self.push("", "resumed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_a_clock() {
        assert_eq!(span(Duration::from_secs(42)), "42s");
        assert_eq!(span(Duration::from_secs(185)), "3m05s");
        assert_eq!(span(Duration::from_secs(3725)), "1h02m");
    }

    #[test]
    fn plain_lines_say_what_is_in_progress_every_heartbeat() {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let r = PlainReporter::with_heartbeat(Box::new(sink.clone()), 3, Duration::ZERO);
        r.start("Web", "updating", 4);
        let progress = Progress {
            done: 1,
            total: 4,
            in_progress: vec![InFlight {
                logical_id: "Db".into(),
                resource_type: "AWS::RDS::DBInstance".into(),
                status: "UPDATE_IN_PROGRESS".into(),
                since_millis: now_millis() - 190_000,
            }],
        };
        r.progress("Web", &progress);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().map(|l| &l[10..]).collect();
        assert_eq!(lines[0], "Web  updating (4 resource changes)");
        assert!(
            lines[1].starts_with("Web  in progress [1/4]: Db (AWS::RDS::DBInstance) 3m1"),
            "{lines:?}"
        );
    }

    #[test]
    fn the_live_view_shows_every_resource_in_progress_with_its_time() {
        use indicatif::InMemoryTerm;
        let term = InMemoryTerm::new(12, 120);
        let screen = term.clone();
        let r = TtyReporter::with_target(
            3,
            false,
            Box::new(move || ProgressDrawTarget::term_like_with_hz(Box::new(term.clone()), 100)),
        );
        let wait = || std::thread::sleep(Duration::from_millis(300));
        r.start("Web", "updating", 4);
        let flight = |id: &str, kind: &str, secs: i64| InFlight {
            logical_id: id.into(),
            resource_type: kind.into(),
            status: "UPDATE_IN_PROGRESS".into(),
            since_millis: now_millis() - secs * 1000,
        };
        r.progress(
            "Web",
            &Progress {
                done: 1,
                total: 4,
                in_progress: vec![
                    flight("Db", "AWS::RDS::DBInstance", 190),
                    flight("Api", "AWS::ECS::Service", 45),
                ],
            },
        );
        wait();
        let contents = screen.contents();
        let lines: Vec<&str> = contents.lines().map(str::trim_end).collect();
        assert!(lines[0].contains("Web  updating [=====>"), "{contents}");
        assert!(lines[0].contains("] 1/4"), "{contents}");
        assert!(
            lines[1].contains(" 3m10s  ") || lines[1].contains(" 3m11s  "),
            "{contents}"
        );
        assert!(
            lines[2].contains(" 45s  ") || lines[2].contains(" 46s  "),
            "{contents}"
        );
        assert!(
            lines[1].ends_with("UPDATE_IN_PROGRESS AWS::RDS::DBInstance Db"),
            "{contents}"
        );
        assert!(
            lines[2].ends_with("UPDATE_IN_PROGRESS AWS::ECS::Service Api"),
            "{contents}"
        );
        // Done resources leave the view.
        r.progress(
            "Web",
            &Progress {
                done: 3,
                total: 4,
                in_progress: vec![flight("Api", "AWS::ECS::Service", 46)],
            },
        );
        wait();
        let contents = screen.contents();
        assert!(!contents.contains("DBInstance"), "{contents}");
        assert!(contents.contains("] 3/4"), "{contents}");
        r.finish("Web", "updated: 0 created, 4 updated, 0 deleted");
        wait();
        let contents = screen.contents();
        assert_eq!(
            contents.trim(),
            "Web  updated: 0 created, 4 updated, 0 deleted"
        );
    }

    #[test]
    fn no_color_turns_colours_off() {
        use std::ffi::OsStr;
        assert!(color_for(true, None, Some("xterm-256color")));
        assert!(color_for(true, Some(OsStr::new("")), None));
        assert!(!color_for(true, Some(OsStr::new("1")), Some("xterm")));
        assert!(!color_for(true, None, Some("dumb")));
        assert!(!color_for(false, None, Some("xterm")));
        assert_eq!(paint_status("CREATE_FAILED", false), "CREATE_FAILED");
        assert_eq!(
            paint_status("CREATE_FAILED", true),
            "\x1b[31mCREATE_FAILED\x1b[0m"
        );
    }
}
