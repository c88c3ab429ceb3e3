//! Progress for people: a bar per stack on a terminal (indicatif), timestamped event lines
//! otherwise.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::api::StackEvent;

/// Where progress goes.
pub trait Reporter: Send + Sync {
    /// An operation on `stack` starts; `total` is the number of resources it will touch (plus
    /// the stack itself).
    fn start(&self, stack: &str, verb: &str, total: usize);
    /// A new stack event.
    fn event(&self, stack: &str, event: &StackEvent);
    /// A line about `stack` (change summaries, decisions).
    fn line(&self, stack: &str, text: &str);
    /// The operation on `stack` ended.
    fn finish(&self, stack: &str, text: &str);
}

/// The UTC time of day of a Unix timestamp in milliseconds, `HH:MM:SS`.
pub fn clock(millis: i64) -> String {
    let secs = millis.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Timestamped lines, for logs and CI: one per event and message.
pub struct PlainReporter {
    out: Mutex<Box<dyn Write + Send>>,
    width: usize,
}

impl PlainReporter {
    /// Lines to `out`; `width` aligns stack names.
    pub fn new(out: Box<dyn Write + Send>, width: usize) -> PlainReporter {
        PlainReporter {
            out: Mutex::new(out),
            width,
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
}

impl Reporter for PlainReporter {
    fn start(&self, stack: &str, verb: &str, total: usize) {
        self.write(
            stack,
            &format!(
                "{verb} ({total} resource{})",
                if total == 1 { "" } else { "s" }
            ),
        );
    }

    fn event(&self, stack: &str, event: &StackEvent) {
        let mut text = format!(
            "{:<30} {} {}",
            event.status, event.resource_type, event.logical_id
        );
        if let Some(reason) = &event.reason
            && event.status.ends_with("_FAILED")
        {
            text.push_str(": ");
            text.push_str(reason);
        }
        self.write(stack, &text);
    }

    fn line(&self, stack: &str, text: &str) {
        self.write(stack, text);
    }

    fn finish(&self, stack: &str, text: &str) {
        self.write(stack, text);
    }
}

/// A progress bar per stack: resources done out of total and the latest event.
pub struct TtyReporter {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, (ProgressBar, usize)>>,
    width: usize,
}

impl TtyReporter {
    /// Bars on stderr; `width` aligns stack names.
    pub fn new(width: usize) -> TtyReporter {
        TtyReporter {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(BTreeMap::new()),
            width,
        }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (ProgressBar, usize)>> {
        self.bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Reporter for TtyReporter {
    fn start(&self, stack: &str, verb: &str, total: usize) {
        let bar = self
            .multi
            .add(ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX)));
        let template = format!(
            "{{spinner}} {{prefix:{}}} [{{bar:20}}] {{pos}}/{{len}} {{elapsed:>4}} {{wide_msg}}",
            self.width
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(stack.to_owned());
        bar.set_message(verb.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars().insert(stack.to_owned(), (bar, 0));
    }

    fn event(&self, stack: &str, event: &StackEvent) {
        let mut bars = self.bars();
        if let Some((bar, _)) = bars.get_mut(stack) {
            if event.status.ends_with("_COMPLETE") || event.status.ends_with("_SKIPPED") {
                bar.inc(1);
            }
            bar.set_message(format!(
                "{} {} {}",
                event.status, event.resource_type, event.logical_id
            ));
            if event.status.ends_with("_FAILED") {
                let reason = event.reason.clone().unwrap_or_default();
                let _ = self.multi.println(format!(
                    "{stack}: {} {} {}: {reason}",
                    event.status, event.resource_type, event.logical_id
                ));
            }
        }
    }

    fn line(&self, stack: &str, text: &str) {
        for line in text.lines() {
            let _ = self
                .multi
                .println(format!("{stack:w$}  {line}", w = self.width));
        }
    }

    fn finish(&self, stack: &str, text: &str) {
        if let Some((bar, _)) = self.bars().remove(stack) {
            bar.finish_and_clear();
        }
        let _ = self
            .multi
            .println(format!("{stack:w$}  {text}", w = self.width));
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
    fn start(&self, stack: &str, verb: &str, total: usize) {
        self.push(stack, &format!("{verb} ({total})"));
    }

    fn event(&self, stack: &str, event: &StackEvent) {
        self.push(
            stack,
            &format!("event {} {}", event.status, event.logical_id),
        );
    }

    fn line(&self, stack: &str, text: &str) {
        self.push(stack, text);
    }

    fn finish(&self, stack: &str, text: &str) {
        self.push(stack, text);
    }
}
