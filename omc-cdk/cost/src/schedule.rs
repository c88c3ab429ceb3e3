//! How often a schedule runs: EventBridge Scheduler and EventBridge rule expressions
//! (`rate(...)`, `cron(...)`, `at(...)`), as runs in an average month.

/// Days in an average month (365 / 12).
const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

/// Runs a month of a schedule expression; an error says what is not understood.
pub(crate) fn runs_per_month(expression: &str) -> Result<f64, String> {
    let expression = expression.trim();
    if let Some(inner) = strip(expression, "rate(") {
        let (count, unit) = inner
            .split_once(' ')
            .ok_or_else(|| format!("{expression:?} is not `rate(N unit)`"))?;
        let count: f64 = count
            .parse()
            .map_err(|_| format!("{expression:?}: {count:?} is not a number"))?;
        let per_day = match unit.trim() {
            "minute" | "minutes" => 24.0 * 60.0,
            "hour" | "hours" => 24.0,
            "day" | "days" => 1.0,
            other => return Err(format!("{expression:?}: unknown unit {other:?}")),
        };
        if count <= 0.0 {
            return Err(format!("{expression:?}: the rate must be positive"));
        }
        return Ok(DAYS_PER_MONTH * per_day / count);
    }
    if strip(expression, "at(").is_some() {
        // A one-time schedule: no recurring cost.
        return Ok(0.0);
    }
    let inner = strip(expression, "cron(")
        .ok_or_else(|| format!("{expression:?} is not a rate, cron or at expression"))?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minutes, hours, day_of_month, month, day_of_week, _year] = fields.as_slice() else {
        return Err(format!(
            "{expression:?}: a cron expression has six fields (minutes hours day-of-month month day-of-week year)"
        ));
    };
    let minutes = field(minutes, 0, 59, &[])?;
    let hours = field(hours, 0, 23, &[])?;
    let months = field(month, 1, 12, &MONTHS)?;
    let any_day_of_month = matches!(*day_of_month, "?" | "*");
    let any_weekday = matches!(*day_of_week, "?" | "*");
    let month_days = field(day_of_month, 1, 31, &[])?;
    let weekdays = field(day_of_week, 1, 7, &DAYS)?;
    // Count the matching days of a whole (non-leap) year, 2027, which starts on a Friday.
    let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut days = 0_u32;
    let mut index = 0_u32;
    for (m, &length) in lengths.iter().enumerate() {
        for d in 1..=length {
            // AWS counts days of the week 1 (Sunday) to 7 (Saturday); 1 January 2027 is a
            // Friday (6).
            let weekday = (index + 5) % 7 + 1;
            index += 1;
            let month_ok = months.contains(&(u32::try_from(m).unwrap_or(0) + 1));
            let day_ok = match (any_day_of_month, any_weekday) {
                (true, true) => true,
                (true, false) => weekdays.contains(&weekday),
                (false, true) => month_days.contains(&d),
                (false, false) => month_days.contains(&d) || weekdays.contains(&weekday),
            };
            if month_ok && day_ok {
                days += 1;
            }
        }
    }
    let per_day = minutes.len() * hours.len();
    Ok(f64::from(days) * f64::from(u32::try_from(per_day).unwrap_or(u32::MAX)) / 12.0)
}

fn strip<'a>(expression: &'a str, prefix: &str) -> Option<&'a str> {
    expression.strip_prefix(prefix)?.strip_suffix(')')
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The values a cron field matches: `*`, `?`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s`, lists, and
/// names for months and days.
fn field(text: &str, low: u32, high: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(low + u32::try_from(i).unwrap_or(0));
        }
        let n: u32 = v.parse().map_err(|_| {
            format!("cron field {text:?}: {v:?} is not supported (L, W and # are not)")
        })?;
        if n < low || n > high {
            return Err(format!("cron field {text:?}: {n} is outside {low}-{high}"));
        }
        Ok(n)
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("cron field {text:?}: bad step {step:?}"))?,
            ),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" | "?" => (low, high),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, high),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        out.extend((from..=to).step_by(usize::try_from(step).unwrap_or(1)));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::runs_per_month;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn rates() {
        assert!(close(
            runs_per_month("rate(15 minutes)").unwrap_or_default(),
            2920.0
        ));
        assert!(close(
            runs_per_month("rate(1 hour)").unwrap_or_default(),
            730.0
        ));
        assert!(close(
            runs_per_month("rate(1 day)").unwrap_or_default(),
            30.416
        ));
        assert!(runs_per_month("rate(0 days)").is_err());
        assert!(runs_per_month("rate(5 weeks)").is_err());
    }

    #[test]
    fn crons() {
        // Every day at 06:00.
        assert!(close(
            runs_per_month("cron(0 6 * * ? *)").unwrap_or_default(),
            365.0 / 12.0
        ));
        // Weekdays at 06:00 and 18:00: 261 weekdays in 2027.
        assert!(close(
            runs_per_month("cron(0 6,18 ? * MON-FRI *)").unwrap_or_default(),
            261.0 * 2.0 / 12.0
        ));
        // Every 10 minutes in working hours on the first of the month.
        assert!(close(
            runs_per_month("cron(0/10 9-16 1 * ? *)").unwrap_or_default(),
            6.0 * 8.0
        ));
        assert!(runs_per_month("cron(0 6 L * ? *)").is_err());
        assert!(runs_per_month("cron(0 6 * *)").is_err());
        assert_eq!(runs_per_month("at(2026-12-01T00:00:00)"), Ok(0.0));
    }
}
