//! Schedule expressions of EventBridge Scheduler and EventBridge rules (`rate(...)`,
//! `cron(...)`, `at(...)`): parsed into a [`ScheduleExpression`], with an error
//! ([`ScheduleError`]) that says which field, which value and what is valid, and counted as runs
//! in an average month.
//!
//! This is the one parser of schedules: `omc-constructs`' `ScheduledTask` validates its schedule
//! with it and the cost estimate (`omc-cdk-cost`) counts runs with it, so every schedule the
//! construct accepts is priced.
//!
//! The syntax is AWS's (the EventBridge *Cron expressions reference* and the EventBridge
//! Scheduler *Schedule types*):
//!
//! | field | values | wildcards |
//! |---|---|---|
//! | minutes | 0-59 | `, - * /` |
//! | hours | 0-23 | `, - * /` |
//! | day-of-month | 1-31 | `, - * ? /`, and alone `L`, `LW`, `nW` |
//! | month | 1-12 or `JAN`-`DEC` | `, - * /` |
//! | day-of-week | 1-7 or `SUN`-`SAT` (1 is Sunday) | `, - * ?`, and alone `L`, `nL`, `n#k` |
//! | year | 1970-2199 | `, - * /` |
//!
//! Exactly one of day-of-month and day-of-week is `?`. `L` in day-of-month is the last day of
//! the month, `LW` its last weekday (Monday to Friday), `15W` the weekday nearest the 15th
//! within the month (a Saturday 15th runs on Friday the 14th, a Sunday on Monday the 16th; a
//! Saturday 1st runs on Monday the 3rd and a Sunday 31st on Friday the 29th, never in another
//! month). In day-of-week `L` alone is the last day of the week (Saturday), `6L` the last Friday
//! of the month and `3#2` its second Tuesday (no run in a month without a fifth one for `#5`).
//! `L`, `LW`, `nW`, `nL` and `n#k` stand alone in their field: AWS allows one `#` expression in
//! day-of-week, and `W` takes a single day (Quartz, whose cron AWS's follows, rejects lists with
//! them). Names are upper case, as AWS documents them; ranges go from low to high.
//!
//! `rate(value unit)` takes a whole number of at least 1 and `minute`, `hour` or `day` for 1,
//! `minutes`, `hours` or `days` otherwise. `at(yyyy-mm-ddThh:mm:ss)` (EventBridge Scheduler
//! only) runs once.
//!
//! ```
//! use omc_cdk_template::schedule::{CronDays, CronField, ScheduleError, ScheduleExpression};
//!
//! // The last Friday of every month at 09:00: once a month.
//! let report = ScheduleExpression::parse("cron(0 9 ? * 6L *)")?;
//! assert!((report.runs_per_month() - 1.0).abs() < 1e-9);
//! let ScheduleExpression::Cron(cron) = &report else { unreachable!() };
//! assert_eq!(cron.days(), &CronDays::LastOfMonth(6));
//! assert!(cron.fires_on(2027, 4, 30) && !cron.fires_on(2027, 4, 23));
//!
//! // Every 15 minutes: 2,920 runs in an average month (365 / 12 days).
//! let poll: ScheduleExpression = "rate(15 minutes)".parse()?;
//! assert!((poll.runs_per_month() - 2920.0).abs() < 1e-9);
//!
//! // Errors say which field, the bad value and what is valid.
//! let err = ScheduleExpression::parse("cron(0 9 ? * 8 *)").unwrap_err();
//! assert!(matches!(&err, ScheduleError::Field { field: CronField::DayOfWeek, value, .. } if value == "8"));
//! assert!(err.to_string().starts_with("cron field day-of-week (\"8\") is not valid; it takes 1-7 or SUN-SAT"));
//! # Ok::<(), ScheduleError>(())
//! ```

use std::fmt;
use std::str::FromStr;

/// Days in an average month (365 / 12).
const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

/// The year over whose days cron schedules are counted: a whole year that is not a leap year
/// (it starts on a Friday), so an estimate does not depend on when it is made.
pub const COUNTED_YEAR: u16 = 2027;

/// A parsed schedule expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// `rate(value unit)`.
    Rate(Rate),
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    Cron(Cron),
    /// `at(yyyy-mm-ddThh:mm:ss)`: once (EventBridge Scheduler only).
    At(At),
}

impl ScheduleExpression {
    /// Parses and validates an expression, such as `rate(15 minutes)`, `cron(0 3 L * ? *)` or
    /// `at(2027-01-31T09:30:00)`.
    pub fn parse(expression: &str) -> Result<ScheduleExpression, ScheduleError> {
        if let Some(inner) = inside(expression, "rate") {
            return Rate::parse_inner(expression, inner).map(ScheduleExpression::Rate);
        }
        if let Some(inner) = inside(expression, "cron") {
            return Cron::parse(inner).map(ScheduleExpression::Cron);
        }
        if let Some(inner) = inside(expression, "at") {
            return At::parse_inner(expression, inner).map(ScheduleExpression::At);
        }
        Err(ScheduleError::Kind {
            expression: expression.to_owned(),
        })
    }

    /// Checks an expression: what [`ScheduleExpression::parse`] accepts.
    pub fn validate(expression: &str) -> Result<(), ScheduleError> {
        ScheduleExpression::parse(expression).map(|_| ())
    }

    /// How many times it runs in an average month: a rate over 365 / 12 days, a cron
    /// expression's runs in [`COUNTED_YEAR`] divided by 12 (the year field is left out: it says
    /// when a schedule runs at all, not how often), and 0 for a one-time `at` (no recurring
    /// runs).
    pub fn runs_per_month(&self) -> f64 {
        match self {
            ScheduleExpression::Rate(rate) => rate.runs_per_month(),
            ScheduleExpression::Cron(cron) => cron.runs_per_month(),
            ScheduleExpression::At(_) => 0.0,
        }
    }
}

impl FromStr for ScheduleExpression {
    type Err = ScheduleError;

    fn from_str(expression: &str) -> Result<ScheduleExpression, ScheduleError> {
        ScheduleExpression::parse(expression)
    }
}

impl fmt::Display for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleExpression::Rate(rate) => write!(f, "{rate}"),
            ScheduleExpression::Cron(cron) => write!(f, "cron({cron})"),
            ScheduleExpression::At(at) => write!(f, "{at}"),
        }
    }
}

/// `text` is `name(inner)`: the inner text.
fn inside<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

/// Why a schedule expression is not valid. Each variant names the part that is wrong, the bad
/// value and what would be valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// Neither `rate(...)`, `cron(...)` nor `at(...)`.
    #[error(
        "{expression:?} is not a schedule expression; AWS takes rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"
    )]
    Kind {
        /// The expression.
        expression: String,
    },
    /// A rate without exactly a value and a unit.
    #[error("{expression:?} is not rate(value unit), such as rate(15 minutes)")]
    RateForm {
        /// The expression.
        expression: String,
    },
    /// A rate whose value is not a whole number of at least 1.
    #[error(
        "{expression:?}: the rate value {value:?} is not valid; it takes a whole number of at least 1"
    )]
    RateValue {
        /// The expression.
        expression: String,
        /// The value as written.
        value: String,
    },
    /// A rate whose unit is unknown, or singular for a value other than 1 (or plural for 1).
    #[error("{expression:?}: the unit {unit:?} is not valid for {value}; it takes {valid}")]
    RateUnit {
        /// The expression.
        expression: String,
        /// The value.
        value: u32,
        /// The unit as written.
        unit: String,
        /// The units that are valid for the value.
        valid: &'static str,
    },
    /// A cron expression without six fields.
    #[error(
        "cron expression {expression:?} has {found} fields; AWS cron takes 6: minutes hours day-of-month month day-of-week year, such as \"0 3 * * ? *\""
    )]
    FieldCount {
        /// The fields as written (inside `cron(...)`).
        expression: String,
        /// How many fields it has.
        found: usize,
    },
    /// A cron field with a value or wildcard the field does not take.
    #[error("cron field {field} ({value:?}) is not valid; it takes {valid}")]
    Field {
        /// The field.
        field: CronField,
        /// The field as written.
        value: String,
        /// What the field takes.
        valid: &'static str,
    },
    /// A range of a cron field that goes from high to low.
    #[error(
        "cron field {field} ({value:?}) has the range {range}, which goes from high to low; write ranges from low to high, or a list such as \"22-23,0-2\""
    )]
    ReversedRange {
        /// The field.
        field: CronField,
        /// The field as written.
        value: String,
        /// The range as written.
        range: String,
    },
    /// An increment (`/n`) of a cron field that is 0 or not smaller than the field's span.
    #[error("cron field {field} ({value:?}) has the increment {step:?}; it takes 1-{max}")]
    Step {
        /// The field.
        field: CronField,
        /// The field as written.
        value: String,
        /// The increment as written.
        step: String,
        /// The largest increment of the field.
        max: u16,
    },
    /// Day-of-month and day-of-week are both set.
    #[error(
        "day-of-month ({day_of_month:?}) and day-of-week ({day_of_week:?}) are both set; one of them must be \"?\""
    )]
    BothDaysGiven {
        /// The day-of-month field.
        day_of_month: String,
        /// The day-of-week field.
        day_of_week: String,
    },
    /// Day-of-month and day-of-week are both `?`.
    #[error(
        "day-of-month and day-of-week are both \"?\"; exactly one of them must be \"?\", the other a value or \"*\""
    )]
    NoDayGiven,
    /// An `at(...)` that is not `at(yyyy-mm-ddThh:mm:ss)`.
    #[error("{expression:?} is not at(yyyy-mm-ddThh:mm:ss), such as at(2027-01-31T09:30:00)")]
    AtForm {
        /// The expression.
        expression: String,
    },
    /// An `at(...)` with a month, day, hour, minute or second out of range.
    #[error("{expression:?}: the {part} {value} is not valid; it takes {low}-{high}")]
    AtValue {
        /// The expression.
        expression: String,
        /// `month`, `day`, `hour`, `minute` or `second`.
        part: &'static str,
        /// The value.
        value: u16,
        /// The smallest valid value.
        low: u16,
        /// The largest valid value (for the day: the length of that month).
        high: u16,
    },
}

/// A field of a cron expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CronField {
    /// Minutes, 0-59.
    Minutes,
    /// Hours, 0-23.
    Hours,
    /// Day of the month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or `JAN`-`DEC`.
    Month,
    /// Day of the week, 1-7 (Sunday to Saturday) or `SUN`-`SAT`.
    DayOfWeek,
    /// Year, 1970-2199.
    Year,
}

impl CronField {
    /// The name AWS gives the field: `minutes`, `hours`, `day-of-month`, `month`,
    /// `day-of-week`, `year`.
    pub fn name(self) -> &'static str {
        match self {
            CronField::Minutes => "minutes",
            CronField::Hours => "hours",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        }
    }

    /// What the field takes, as [`ScheduleError::Field`] says it.
    pub fn valid(self) -> &'static str {
        match self {
            CronField::Minutes => "0-59, with ',', '-', '/' and '*'",
            CronField::Hours => "0-23, with ',', '-', '/' and '*'",
            CronField::DayOfMonth => {
                "1-31, with ',', '-', '/' and '*', or alone '?', 'L' (the last day), 'LW' (the last weekday) or nW (the weekday nearest day n, such as 15W)"
            }
            CronField::Month => "1-12 or JAN-DEC, with ',', '-', '/' and '*'",
            CronField::DayOfWeek => {
                "1-7 or SUN-SAT (1 is Sunday), with ',', '-' and '*', or alone '?', 'L' (Saturday), nL (the last day n of the month, such as 6L) or n#k (the k-th day n of the month, k 1-5, such as 3#2)"
            }
            CronField::Year => "1970-2199, with ',', '-', '/' and '*'",
        }
    }

    /// The smallest and largest values, and the names of the values from the smallest on.
    fn range(self) -> (u16, u16, &'static [&'static str]) {
        match self {
            CronField::Minutes => (0, 59, &[]),
            CronField::Hours => (0, 23, &[]),
            CronField::DayOfMonth => (1, 31, &[]),
            CronField::Month => (1, 12, &MONTHS),
            CronField::DayOfWeek => (1, 7, &WEEKDAYS),
            CronField::Year => (1970, 2199, &[]),
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The unit of a rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateUnit {
    /// `minute` / `minutes`.
    Minute,
    /// `hour` / `hours`.
    Hour,
    /// `day` / `days`.
    Day,
}

impl RateUnit {
    /// Runs a day at one run per unit.
    fn per_day(self) -> f64 {
        match self {
            RateUnit::Minute => 24.0 * 60.0,
            RateUnit::Hour => 24.0,
            RateUnit::Day => 1.0,
        }
    }

    /// The unit as written for `value`.
    fn name(self, value: u32) -> &'static str {
        match (self, value == 1) {
            (RateUnit::Minute, true) => "minute",
            (RateUnit::Minute, false) => "minutes",
            (RateUnit::Hour, true) => "hour",
            (RateUnit::Hour, false) => "hours",
            (RateUnit::Day, true) => "day",
            (RateUnit::Day, false) => "days",
        }
    }
}

/// `rate(value unit)`: every `value` units, from when the schedule is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    value: u32,
    unit: RateUnit,
}

impl Rate {
    /// The value (at least 1).
    pub fn value(&self) -> u32 {
        self.value
    }

    /// The unit.
    pub fn unit(&self) -> RateUnit {
        self.unit
    }

    /// Runs in an average month (365 / 12 days).
    pub fn runs_per_month(&self) -> f64 {
        DAYS_PER_MONTH * self.unit.per_day() / f64::from(self.value)
    }

    fn parse_inner(expression: &str, inner: &str) -> Result<Rate, ScheduleError> {
        let mut words = inner.split_whitespace();
        let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(ScheduleError::RateForm {
                expression: expression.to_owned(),
            });
        };
        let number = Some(value)
            .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| ScheduleError::RateValue {
                expression: expression.to_owned(),
                value: value.to_owned(),
            })?;
        let kind = [RateUnit::Minute, RateUnit::Hour, RateUnit::Day]
            .into_iter()
            .find(|u| u.name(number) == unit)
            .ok_or_else(|| ScheduleError::RateUnit {
                expression: expression.to_owned(),
                value: number,
                unit: unit.to_owned(),
                valid: if number == 1 {
                    "minute, hour or day"
                } else {
                    "minutes, hours or days"
                },
            })?;
        Ok(Rate {
            value: number,
            unit: kind,
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate({} {})", self.value, self.unit.name(self.value))
    }
}

/// `at(yyyy-mm-ddThh:mm:ss)`: once, at that time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    year: u16,
    month: u16,
    day: u16,
    hour: u16,
    minute: u16,
    second: u16,
}

impl At {
    /// The date: year, month (1-12) and day (1-31).
    pub fn date(&self) -> (u16, u16, u16) {
        (self.year, self.month, self.day)
    }

    /// The time: hour, minute and second.
    pub fn time(&self) -> (u16, u16, u16) {
        (self.hour, self.minute, self.second)
    }

    fn parse_inner(expression: &str, inner: &str) -> Result<At, ScheduleError> {
        let form = || ScheduleError::AtForm {
            expression: expression.to_owned(),
        };
        let bytes = inner.as_bytes();
        // yyyy-mm-ddThh:mm:ss
        let shape = b"dddd-dd-ddTdd:dd:dd";
        if bytes.len() != shape.len()
            || !bytes.iter().zip(shape).all(|(b, s)| {
                if *s == b'd' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            })
        {
            return Err(form());
        }
        let number = |from: usize, to: usize| -> Result<u16, ScheduleError> {
            inner
                .get(from..to)
                .and_then(|t| t.parse().ok())
                .ok_or_else(form)
        };
        let at = At {
            year: number(0, 4)?,
            month: number(5, 7)?,
            day: number(8, 10)?,
            hour: number(11, 13)?,
            minute: number(14, 16)?,
            second: number(17, 19)?,
        };
        let check = |part: &'static str, value: u16, low: u16, high: u16| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(ScheduleError::AtValue {
                    expression: expression.to_owned(),
                    part,
                    value,
                    low,
                    high,
                })
            }
        };
        check("month", at.month, 1, 12)?;
        check("day", at.day, 1, month_length(at.year, at.month))?;
        check("hour", at.hour, 0, 23)?;
        check("minute", at.minute, 0, 59)?;
        check("second", at.second, 0, 59)?;
        Ok(at)
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The days a cron expression runs on: its day-of-month or its day-of-week (the other is `?`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CronDays {
    /// Days of the month 1-31, from `*`, values, ranges, increments and lists (a day a month
    /// does not have is skipped in that month).
    DaysOfMonth(Vec<u16>),
    /// `L` in day-of-month: the last day of the month.
    LastDayOfMonth,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    LastWeekdayOfMonth,
    /// `nW`: the weekday nearest day n (1-31) within the month; none in a month without day n.
    NearestWeekday(u16),
    /// Days of the week 1-7 (1 is Sunday, 7 Saturday), from `*`, values, names, ranges and lists;
    /// `L` alone is Saturday.
    DaysOfWeek(Vec<u16>),
    /// `nL`: the last day n of the week (1-7) in the month, such as `6L`, the last Friday.
    LastOfMonth(u16),
    /// `n#k`: the k-th (1-5) day n of the week (1-7) in the month, such as `3#2`, the second
    /// Tuesday.
    Nth {
        /// The day of the week, 1 (Sunday) to 7 (Saturday).
        weekday: u16,
        /// Which one in the month, 1-5.
        nth: u16,
    },
}

impl CronDays {
    /// Whether the days include a date (`month` 1-12, `day` 1-31 of that month).
    fn include(&self, year: u16, month: u16, day: u16) -> bool {
        let length = month_length(year, month);
        let weekday = weekday(year, month, day);
        match self {
            CronDays::DaysOfMonth(days) => days.contains(&day),
            CronDays::LastDayOfMonth => day == length,
            CronDays::LastWeekdayOfMonth => day == last_weekday(year, month),
            CronDays::NearestWeekday(n) => nearest_weekday(year, month, *n) == Some(day),
            CronDays::DaysOfWeek(days) => days.contains(&weekday),
            CronDays::LastOfMonth(w) => weekday == *w && day + 7 > length,
            CronDays::Nth { weekday: w, nth } => {
                weekday == *w && day.saturating_sub(1) / 7 + 1 == *nth
            }
        }
    }
}

/// `cron(minutes hours day-of-month month day-of-week year)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: Vec<u16>,
    hours: Vec<u16>,
    days: CronDays,
    months: Vec<u16>,
    years: Vec<u16>,
}

impl Cron {
    /// Parses the six fields of a cron expression (what is inside `cron(...)`), separated by
    /// white space.
    pub fn parse(fields: &str) -> Result<Cron, ScheduleError> {
        let parts: Vec<&str> = fields.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = parts.as_slice() else {
            return Err(ScheduleError::FieldCount {
                expression: fields.to_owned(),
                found: parts.len(),
            });
        };
        let minutes = values(CronField::Minutes, minutes)?;
        let hours = values(CronField::Hours, hours)?;
        let from_month = (*day_of_month != "?")
            .then(|| days_of_month(day_of_month))
            .transpose()?;
        let months = values(CronField::Month, month)?;
        let from_week = (*day_of_week != "?")
            .then(|| days_of_week(day_of_week))
            .transpose()?;
        let years = values(CronField::Year, year)?;
        let days = match (from_month, from_week) {
            (Some(days), None) | (None, Some(days)) => days,
            (None, None) => return Err(ScheduleError::NoDayGiven),
            (Some(_), Some(_)) => {
                return Err(ScheduleError::BothDaysGiven {
                    day_of_month: (*day_of_month).to_owned(),
                    day_of_week: (*day_of_week).to_owned(),
                });
            }
        };
        Ok(Cron {
            text: parts.join(" "),
            minutes,
            hours,
            days,
            months,
            years,
        })
    }

    /// The minutes it runs at, ascending.
    pub fn minutes(&self) -> &[u16] {
        &self.minutes
    }

    /// The hours it runs at, ascending.
    pub fn hours(&self) -> &[u16] {
        &self.hours
    }

    /// The days it runs on.
    pub fn days(&self) -> &CronDays {
        &self.days
    }

    /// The months it runs in, ascending (1-12).
    pub fn months(&self) -> &[u16] {
        &self.months
    }

    /// The years it runs in, ascending.
    pub fn years(&self) -> &[u16] {
        &self.years
    }

    /// Runs a day, on the days it runs: minutes × hours.
    pub fn runs_per_day(&self) -> usize {
        self.minutes.len() * self.hours.len()
    }

    /// Whether it runs on a date (`month` 1-12, `day` 1-31): the year, month and days match.
    /// A date that does not exist (30 February) is never run on.
    pub fn fires_on(&self, year: u16, month: u16, day: u16) -> bool {
        self.years.contains(&year) && self.runs_in(year, month, day)
    }

    /// Whether the month and days match a date that exists (the year field aside).
    fn runs_in(&self, year: u16, month: u16, day: u16) -> bool {
        (1..=12).contains(&month)
            && (1..=month_length(year, month)).contains(&day)
            && self.months.contains(&month)
            && self.days.include(year, month, day)
    }

    /// Runs in an average month: its runs in [`COUNTED_YEAR`] (the year field left out)
    /// divided by 12.
    pub fn runs_per_month(&self) -> f64 {
        let days: u32 = (1..=12)
            .map(|month| {
                (1..=month_length(COUNTED_YEAR, month))
                    .map(|day| u32::from(self.runs_in(COUNTED_YEAR, month, day)))
                    .sum::<u32>()
            })
            .sum();
        let per_day = u32::try_from(self.runs_per_day()).unwrap_or(u32::MAX);
        f64::from(days) * f64::from(per_day) / 12.0
    }
}

impl fmt::Display for Cron {
    /// The six fields, separated by single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A field error for `field` written as `text`.
fn invalid(field: CronField, text: &str) -> ScheduleError {
    ScheduleError::Field {
        field,
        value: text.to_owned(),
        valid: field.valid(),
    }
}

/// One value of a field: a number in its range or (month, day-of-week) a name.
fn value(field: CronField, text: &str, item: &str) -> Result<u16, ScheduleError> {
    let (low, high, names) = field.range();
    if let Some(i) = names.iter().position(|n| *n == item) {
        return Ok(low + u16::try_from(i).unwrap_or(0));
    }
    Some(item)
        .filter(|v| !v.is_empty() && v.len() <= 4 && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|n| (low..=high).contains(n))
        .ok_or_else(|| invalid(field, text))
}

/// The values of a field of numbers (and names): `*`, values, ranges `a-b`, increments `*/s`,
/// `a/s`, `a-b/s` (not in day-of-week) and lists of these.
fn values(field: CronField, text: &str) -> Result<Vec<u16>, ScheduleError> {
    let (low, high, _) = field.range();
    let mut out = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            None => (item, None),
            Some(_) if field == CronField::DayOfWeek => return Err(invalid(field, text)),
            Some((range, step)) => {
                let max = high - low;
                let s = Some(step)
                    .filter(|s| {
                        !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|s| s.parse::<u16>().ok())
                    .filter(|s| (1..=max).contains(s))
                    .ok_or_else(|| ScheduleError::Step {
                        field,
                        value: text.to_owned(),
                        step: step.to_owned(),
                        max,
                    })?;
                (range, Some(s))
            }
        };
        let (from, to) = if range == "*" {
            (low, high)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(field, text, a)?, value(field, text, b)?);
            if a > b {
                return Err(ScheduleError::ReversedRange {
                    field,
                    value: text.to_owned(),
                    range: range.to_owned(),
                });
            }
            (a, b)
        } else {
            let v = value(field, text, range)?;
            // `a/s` runs from a to the end of the field.
            (v, if step.is_some() { high } else { v })
        };
        out.extend((from..=to).step_by(usize::from(step.unwrap_or(1))));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The day-of-month field (not `?`).
fn days_of_month(text: &str) -> Result<CronDays, ScheduleError> {
    let field = CronField::DayOfMonth;
    match text {
        "L" => return Ok(CronDays::LastDayOfMonth),
        "LW" => return Ok(CronDays::LastWeekdayOfMonth),
        _ => {}
    }
    if let Some(day) = text.strip_suffix('W') {
        return value(field, text, day).map(CronDays::NearestWeekday);
    }
    if text.contains(['L', 'W', '?']) {
        // In a list or range: they stand alone.
        return Err(invalid(field, text));
    }
    values(field, text).map(CronDays::DaysOfMonth)
}

/// The day-of-week field (not `?`).
fn days_of_week(text: &str) -> Result<CronDays, ScheduleError> {
    let field = CronField::DayOfWeek;
    if text == "L" {
        return Ok(CronDays::DaysOfWeek(vec![7]));
    }
    if let Some(day) = text.strip_suffix('L') {
        return value(field, text, day).map(CronDays::LastOfMonth);
    }
    if let Some((day, nth)) = text.split_once('#') {
        let weekday = value(field, text, day)?;
        let nth = Some(nth)
            .filter(|n| n.len() == 1)
            .and_then(|n| n.parse::<u16>().ok())
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| invalid(field, text))?;
        return Ok(CronDays::Nth { weekday, nth });
    }
    if text.contains(['L', '#', '?']) {
        return Err(invalid(field, text));
    }
    values(field, text).map(CronDays::DaysOfWeek)
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in a month (1-12) of a year; 0 for a month that does not exist.
fn month_length(year: u16, month: u16) -> u16 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The day of the week of a date as AWS numbers it: 1 (Sunday) to 7 (Saturday).
fn weekday(year: u16, month: u16, day: u16) -> u16 {
    // Days since 1970-01-01 (a Thursday), by the civil-from-days algorithm's inverse.
    let (month, day) = (i64::from(month), i64::from(day));
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    // Thursday is 5.
    u16::try_from((days + 4).rem_euclid(7) + 1).unwrap_or(1)
}

/// Saturday and Sunday.
fn is_weekend(weekday: u16) -> bool {
    weekday == 7 || weekday == 1
}

/// The last Monday-to-Friday of a month.
fn last_weekday(year: u16, month: u16) -> u16 {
    let length = month_length(year, month);
    match weekday(year, month, length) {
        7 => length - 1,
        1 => length - 2,
        _ => length,
    }
}

/// The weekday nearest day `n` of a month, within the month (`nW`); `None` when the month has
/// no day `n`.
fn nearest_weekday(year: u16, month: u16, n: u16) -> Option<u16> {
    let length = month_length(year, month);
    if n == 0 || n > length {
        return None;
    }
    let w = weekday(year, month, n);
    Some(match w {
        // Saturday: Friday before, or Monday after on the 1st.
        7 if n == 1 => 3,
        7 => n - 1,
        // Sunday: Monday after, or Friday before on the last day.
        1 if n == length => n - 2,
        1 => n + 1,
        _ => n,
    })
    .filter(|d| !is_weekend(weekday(year, month, *d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(expression: &str) -> ScheduleExpression {
        match ScheduleExpression::parse(expression) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{expression}: {e}"),
        }
    }

    fn cron(expression: &str) -> Cron {
        match parse(expression) {
            ScheduleExpression::Cron(cron) => cron,
            other => panic!("{expression}: {other:?}"),
        }
    }

    fn runs(expression: &str) -> f64 {
        parse(expression).runs_per_month()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn error(expression: &str) -> ScheduleError {
        match ScheduleExpression::parse(expression) {
            Ok(parsed) => panic!("{expression} is accepted: {parsed:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_calendar() {
        // 2027-01-01 is a Friday (6); 2028-02-29 exists; 2100 is not a leap year.
        assert_eq!(weekday(2027, 1, 1), 6);
        assert_eq!(weekday(1970, 1, 1), 5);
        assert_eq!(weekday(2024, 2, 29), 5);
        assert_eq!(weekday(2000, 3, 1), 4);
        assert_eq!(month_length(2028, 2), 29);
        assert_eq!(month_length(2100, 2), 28);
        assert_eq!(month_length(2000, 2), 29);
        // Every day of 2027 follows the one before.
        let mut expected = 6;
        for month in 1..=12 {
            for day in 1..=month_length(2027, month) {
                assert_eq!(weekday(2027, month, day), expected, "{month}-{day}");
                expected = expected % 7 + 1;
            }
        }
    }

    #[test]
    fn rates() {
        assert!(close(runs("rate(15 minutes)"), 2920.0));
        assert!(close(runs("rate(1 minute)"), 43_800.0));
        assert!(close(runs("rate(1 hour)"), 730.0));
        assert!(close(runs("rate(6 hours)"), 730.0 / 6.0));
        assert!(close(runs("rate(1 day)"), 365.0 / 12.0));
        assert!(close(runs("rate(7 days)"), 365.0 / 12.0 / 7.0));
        assert_eq!(parse("rate(15 minutes)").to_string(), "rate(15 minutes)");
        assert!(matches!(
            error("rate(0 minutes)"),
            ScheduleError::RateValue { value, .. } if value == "0"
        ));
        for bad in [
            "rate(1.5 hours)",
            "rate(-1 hours)",
            "rate(x hours)",
            "rate(+2 hours)",
        ] {
            assert!(
                matches!(error(bad), ScheduleError::RateValue { .. }),
                "{bad}"
            );
        }
        assert_eq!(
            error("rate(1 hours)"),
            ScheduleError::RateUnit {
                expression: "rate(1 hours)".into(),
                value: 1,
                unit: "hours".into(),
                valid: "minute, hour or day",
            }
        );
        assert_eq!(
            error("rate(5 minute)").to_string(),
            "\"rate(5 minute)\": the unit \"minute\" is not valid for 5; it takes minutes, hours or days"
        );
        assert!(matches!(
            error("rate(5 weeks)"),
            ScheduleError::RateUnit { .. }
        ));
        for bad in ["rate(5)", "rate()", "rate(5 minutes later)"] {
            assert!(
                matches!(error(bad), ScheduleError::RateForm { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_crons() {
        // Every day at 06:00.
        assert!(close(runs("cron(0 6 * * ? *)"), 365.0 / 12.0));
        assert!(close(runs("cron(0 6 ? * * *)"), 365.0 / 12.0));
        // Weekdays at 06:00 and 18:00: 261 weekdays in 2027.
        assert!(close(
            runs("cron(0 6,18 ? * MON-FRI *)"),
            261.0 * 2.0 / 12.0
        ));
        assert!(close(runs("cron(0 6,18 ? * 2-6 *)"), 261.0 * 2.0 / 12.0));
        // Every 10 minutes in working hours on the first of the month.
        assert!(close(runs("cron(0/10 9-16 1 * ? *)"), 6.0 * 8.0));
        assert!(close(runs("cron(*/10 9-16 1 * ? *)"), 6.0 * 8.0));
        // Every 15 minutes from minute 5 between 10:00 and 10:59: 5, 20, 35, 50.
        assert_eq!(cron("cron(5/15 10 * * ? *)").minutes(), [5, 20, 35, 50]);
        assert_eq!(cron("cron(0-30/10 10 * * ? *)").minutes(), [0, 10, 20, 30]);
        // January to March: 31 + 28 + 31 = 90 days.
        assert!(close(runs("cron(0 6 * JAN-MAR ? *)"), 90.0 / 12.0));
        assert!(close(runs("cron(0 6 * 1,2,3 ? *)"), 90.0 / 12.0));
        // Every other month from January: 6 first days.
        assert!(close(runs("cron(0 6 1 1/2 ? *)"), 0.5));
        // The 31st: in the seven months that have one.
        assert!(close(runs("cron(0 6 31 * ? *)"), 7.0 / 12.0));
        // 30 February never comes.
        assert!(close(runs("cron(0 6 30 FEB ? *)"), 0.0));
        // The year field says when, not how often.
        assert!(close(runs("cron(0 6 * * ? 2030-2032)"), 365.0 / 12.0));
        assert_eq!(
            cron("cron(0 6 * * ? 2030-2032)").years(),
            [2030, 2031, 2032]
        );
        assert_eq!(cron("cron(0 6 * * ? 1970/100)").years(), [1970, 2070, 2170]);
        // Fields may be separated by more than one space; Display normalizes.
        assert_eq!(
            parse("cron(0  6 * * ?  *)").to_string(),
            "cron(0 6 * * ? *)"
        );
    }

    #[test]
    fn last_weekday_nearest_and_nth() {
        // L: the last day of each month, 12 a year.
        let last = cron("cron(0 3 L * ? *)");
        assert_eq!(last.days(), &CronDays::LastDayOfMonth);
        assert!(last.fires_on(2027, 2, 28) && last.fires_on(2028, 2, 29));
        assert!(!last.fires_on(2028, 2, 28) && last.fires_on(2027, 4, 30));
        assert!(close(last.runs_per_month(), 1.0));

        // LW: the last weekday. 2027: 31 January is a Sunday (Friday 29th), 28 February a
        // Sunday (Friday 26th), 31 July a Saturday (Friday 30th), 31 May a Monday.
        let lw = cron("cron(0 9 LW * ? *)");
        assert_eq!(lw.days(), &CronDays::LastWeekdayOfMonth);
        for (month, day) in [(1, 29), (2, 26), (5, 31), (7, 30), (10, 29), (12, 31)] {
            assert!(lw.fires_on(2027, month, day), "{month}-{day}");
        }
        assert!(!lw.fires_on(2027, 1, 31) && !lw.fires_on(2027, 7, 31));
        assert!(close(lw.runs_per_month(), 1.0));

        // 15W: 15 May 2027 is a Saturday (Friday 14th), 15 August a Sunday (Monday 16th),
        // 15 January a Friday.
        let w = cron("cron(0 9 15W * ? *)");
        assert_eq!(w.days(), &CronDays::NearestWeekday(15));
        for (month, day) in [(1, 15), (5, 14), (8, 16)] {
            assert!(w.fires_on(2027, month, day), "{month}-{day}");
        }
        assert!(!w.fires_on(2027, 5, 15) && !w.fires_on(2027, 5, 17));
        assert!(close(w.runs_per_month(), 1.0));
        // 1W does not go back into the month before: 1 May 2027 is a Saturday, so Monday 3rd.
        assert!(cron("cron(0 9 1W * ? *)").fires_on(2027, 5, 3));
        // 31W does not go into the next month: 31 October 2027 is a Sunday, so Friday 29th;
        // months without a 31st have no run.
        let w31 = cron("cron(0 9 31W * ? *)");
        assert!(w31.fires_on(2027, 10, 29) && !w31.fires_on(2027, 11, 1));
        assert!(close(w31.runs_per_month(), 7.0 / 12.0));

        // 6L: the last Friday; 30 April 2027 is one, 23 April is not the last.
        let last_friday = cron("cron(0 9 ? * 6L *)");
        assert_eq!(last_friday.days(), &CronDays::LastOfMonth(6));
        assert_eq!(
            cron("cron(0 9 ? * FRIL *)").days(),
            &CronDays::LastOfMonth(6)
        );
        assert!(last_friday.fires_on(2027, 4, 30) && !last_friday.fires_on(2027, 4, 23));
        assert!(last_friday.fires_on(2027, 12, 31));
        assert!(close(last_friday.runs_per_month(), 1.0));

        // 3#2: the second Tuesday; March 2027 starts on a Monday, so the 9th.
        let second_tuesday = cron("cron(0 9 ? * 3#2 *)");
        assert_eq!(second_tuesday.days(), &CronDays::Nth { weekday: 3, nth: 2 });
        assert_eq!(cron("cron(0 9 ? * TUE#2 *)").days(), second_tuesday.days());
        assert!(second_tuesday.fires_on(2027, 3, 9) && !second_tuesday.fires_on(2027, 3, 2));
        assert!(close(second_tuesday.runs_per_month(), 1.0));
        // 2#5: a fifth Monday only in March (1st), May (3rd), August (2nd) and November (1st)
        // of 2027: 4 a year.
        let fifth_monday = cron("cron(0 9 ? * 2#5 *)");
        assert!(fifth_monday.fires_on(2027, 3, 29) && fifth_monday.fires_on(2027, 5, 31));
        assert!(close(fifth_monday.runs_per_month(), 4.0 / 12.0));

        // L alone in day-of-week: Saturday; 2027 has 52 of them (53 Fridays).
        assert_eq!(
            cron("cron(0 9 ? * L *)").days(),
            &CronDays::DaysOfWeek(vec![7])
        );
        assert!(close(runs("cron(0 9 ? * L *)"), 52.0 / 12.0));
        assert!(close(runs("cron(0 9 ? * FRI *)"), 53.0 / 12.0));
    }

    #[test]
    fn at_runs_once() {
        let at = parse("at(2027-01-31T09:30:00)");
        assert!(close(at.runs_per_month(), 0.0));
        assert_eq!(at.to_string(), "at(2027-01-31T09:30:00)");
        assert!(ScheduleExpression::validate("at(2028-02-29T23:59:59)").is_ok());
        assert_eq!(
            error("at(2027-02-29T00:00:00)"),
            ScheduleError::AtValue {
                expression: "at(2027-02-29T00:00:00)".into(),
                part: "day",
                value: 29,
                low: 1,
                high: 28,
            }
        );
        assert!(matches!(
            error("at(2027-13-01T00:00:00)"),
            ScheduleError::AtValue { part: "month", .. }
        ));
        assert!(matches!(
            error("at(2027-01-01T24:00:00)"),
            ScheduleError::AtValue { part: "hour", .. }
        ));
        for bad in [
            "at(2027-01-01)",
            "at(2027-1-01T00:00:00)",
            "at(2027-01-01 00:00:00)",
        ] {
            assert!(matches!(error(bad), ScheduleError::AtForm { .. }), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_field_the_value_and_what_is_valid() {
        assert_eq!(
            error("cron(0 3 * *)").to_string(),
            "cron expression \"0 3 * *\" has 4 fields; AWS cron takes 6: minutes hours day-of-month month day-of-week year, such as \"0 3 * * ? *\""
        );
        assert_eq!(
            error("cron(0 3 1 * MON *)"),
            ScheduleError::BothDaysGiven {
                day_of_month: "1".into(),
                day_of_week: "MON".into()
            }
        );
        assert_eq!(
            error("cron(0 3 * * * *)"),
            ScheduleError::BothDaysGiven {
                day_of_month: "*".into(),
                day_of_week: "*".into()
            }
        );
        assert_eq!(error("cron(0 3 ? * ? *)"), ScheduleError::NoDayGiven);
        assert_eq!(
            error("cron(61 3 * * ? *)").to_string(),
            "cron field minutes (\"61\") is not valid; it takes 0-59, with ',', '-', '/' and '*'"
        );
        let field = |expression: &str| match error(expression) {
            ScheduleError::Field { field, value, .. } => (field, value),
            other => panic!("{expression}: {other:?}"),
        };
        for (expression, expected, value) in [
            ("cron(0 24 * * ? *)", CronField::Hours, "24"),
            ("cron(0 3 32 * ? *)", CronField::DayOfMonth, "32"),
            ("cron(0 3 0 * ? *)", CronField::DayOfMonth, "0"),
            ("cron(0 3 * FOO ? *)", CronField::Month, "FOO"),
            ("cron(0 3 * jan ? *)", CronField::Month, "jan"),
            ("cron(0 3 * 13 ? *)", CronField::Month, "13"),
            ("cron(0 3 ? * 0 *)", CronField::DayOfWeek, "0"),
            ("cron(0 3 ? * 8 *)", CronField::DayOfWeek, "8"),
            ("cron(0 3 * * ? 1969)", CronField::Year, "1969"),
            ("cron(0 3 * * ? 2200)", CronField::Year, "2200"),
            ("cron(? 3 * * ? *)", CronField::Minutes, "?"),
            ("cron(0 3 * ? ? *)", CronField::Month, "?"),
            // L, LW, W, L and # stand alone; W takes one day; no offsets from L.
            ("cron(0 3 1,L * ? *)", CronField::DayOfMonth, "1,L"),
            ("cron(0 3 L-3 * ? *)", CronField::DayOfMonth, "L-3"),
            ("cron(0 3 W * ? *)", CronField::DayOfMonth, "W"),
            ("cron(0 3 1-5W * ? *)", CronField::DayOfMonth, "1-5W"),
            ("cron(0 3 32W * ? *)", CronField::DayOfMonth, "32W"),
            ("cron(0 3 ? * 3#1,6#3 *)", CronField::DayOfWeek, "3#1,6#3"),
            ("cron(0 3 ? * 3#6 *)", CronField::DayOfWeek, "3#6"),
            ("cron(0 3 ? * 3#0 *)", CronField::DayOfWeek, "3#0"),
            ("cron(0 3 ? * 8#1 *)", CronField::DayOfWeek, "8#1"),
            ("cron(0 3 ? * 1,6L *)", CronField::DayOfWeek, "1,6L"),
            ("cron(0 3 ? * 8L *)", CronField::DayOfWeek, "8L"),
            ("cron(0 3 ? * 1,L *)", CronField::DayOfWeek, "1,L"),
            // Day-of-week takes no increments (AWS's table).
            ("cron(0 3 ? * 1/2 *)", CronField::DayOfWeek, "1/2"),
            ("cron(0 3,,4 * * ? *)", CronField::Hours, "3,,4"),
            ("cron(0 3- * * ? *)", CronField::Hours, "3-"),
        ] {
            assert_eq!(
                field(expression),
                (expected, value.to_owned()),
                "{expression}"
            );
        }
        // L in both day fields: both set.
        assert!(matches!(
            error("cron(0 3 L * 6L *)"),
            ScheduleError::BothDaysGiven { .. }
        ));
        assert!(matches!(
            error("cron(0 3 L * L *)"),
            ScheduleError::BothDaysGiven { .. }
        ));
        assert_eq!(
            error("cron(0 22-2 * * ? *)"),
            ScheduleError::ReversedRange {
                field: CronField::Hours,
                value: "22-2".into(),
                range: "22-2".into()
            }
        );
        assert!(matches!(
            error("cron(0 ? * FRI-MON ? *)"),
            ScheduleError::Field {
                field: CronField::Hours,
                ..
            }
        ));
        assert!(matches!(
            error("cron(0 3 ? * FRI-MON *)"),
            ScheduleError::ReversedRange {
                field: CronField::DayOfWeek,
                ..
            }
        ));
        assert_eq!(
            error("cron(0/60 3 * * ? *)").to_string(),
            "cron field minutes (\"0/60\") has the increment \"60\"; it takes 1-59"
        );
        assert!(matches!(
            error("cron(0/0 3 * * ? *)"),
            ScheduleError::Step { .. }
        ));
        assert!(matches!(
            error("cron(0 3 * * ?)"),
            ScheduleError::FieldCount { found: 5, .. }
        ));
        assert!(matches!(error("every day"), ScheduleError::Kind { .. }));
        assert!(matches!(error(" rate(1 hour)"), ScheduleError::Kind { .. }));
        assert!(matches!(
            error("cron 0 3 * * ? *"),
            ScheduleError::Kind { .. }
        ));
    }

    #[test]
    fn what_aws_documents_is_accepted() {
        // The examples of the EventBridge cron reference and of the construct's docs.
        for ok in [
            "cron(0 10 * * ? *)",
            "cron(15 12 * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
            "cron(0/15 * * * ? *)",
            "cron(0/10 * ? * MON-FRI *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 8 ? * MON#1 *)",
            "cron(0 0 L * ? 2027)",
            "cron(0 12 ? JAN-MAR 2L *)",
            "cron(0 0 1 1 ? 2027)",
            "cron(0,30 * * * ? *)",
            "cron(0 0 1,15 * ? *)",
            "cron(0 0 1-7 * ? *)",
            "cron(0 0 1/3 * ? *)",
            "cron(0 0 ? * SUN,SAT *)",
            "cron(0 0 * JAN,JUL ? 2027,2029)",
            "cron(0 0 * * ? 2027/2)",
        ] {
            assert!(
                ScheduleExpression::validate(ok).is_ok(),
                "{ok}: {:?}",
                ScheduleExpression::validate(ok)
            );
        }
    }
}
