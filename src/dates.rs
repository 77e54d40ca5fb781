//! The clock, and Unix seconds to calendar dates: UTC for what is written to
//! files and headers, the system's time zone (through `jiff`, which reads the
//! TZ variable and /etc/localtime) for what the window shows.

/// Now, in seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment in UTC, split into calendar fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 is Sunday.
    pub weekday: u32,
}

impl Civil {
    /// Howard Hinnant's days-to-civil algorithm, valid for any i64 day count in range.
    pub fn from_unix(unix: i64) -> Civil {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as u32,
            day: day as u32,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `2026-11-02 10:00`
    pub fn short(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    /// `Mon, 2 Nov 2026 10:00:00 +0000`, as a Date header (RFC 5322).
    pub fn rfc5322(&self) -> String {
        format!(
            "{}, {} {} {} {:02}:{:02}:{:02} +0000",
            DAYS[self.weekday as usize],
            self.day,
            MONTHS[self.month as usize - 1],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `Mon Nov  2 10:00:00 2026`, as mbox "From " lines write dates.
    pub fn asctime(&self) -> String {
        format!(
            "{} {} {:>2} {:02}:{:02}:{:02} {}",
            DAYS[self.weekday as usize],
            MONTHS[self.month as usize - 1],
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        )
    }
}

/// Seconds east of UTC of the system's time zone at the moment `unix`.
pub fn local_offset(unix: i64) -> i64 {
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    let zone = ZONE.get_or_init(jiff::tz::TimeZone::system);
    jiff::Timestamp::from_second(unix)
        .map(|t| i64::from(zone.to_offset(t).seconds()))
        .unwrap_or(0)
}

/// The moment `unix` in local time, split into calendar fields.
pub fn local(unix: i64, offset: &dyn Fn(i64) -> i64) -> Civil {
    Civil::from_unix(unix.saturating_add(offset(unix)))
}

/// A date as a mail list shows it, in local time: "Today 09:41",
/// "Yesterday 18:02", "Mon 09:41" within the week, "2 Nov" within the
/// year, "2 Nov 2025" before.
pub fn relative(unix: i64, now: i64, offset: &dyn Fn(i64) -> i64) -> String {
    let then = local(unix, offset);
    let today = local(now, offset);
    let day = |c: &Civil| days_from_civil(c.year, c.month, c.day);
    let days_ago = day(&today) - day(&then);
    let time = format!("{:02}:{:02}", then.hour, then.minute);
    match days_ago {
        0 => format!("Today {time}"),
        1 => format!("Yesterday {time}"),
        2..=6 => format!("{} {time}", DAYS[then.weekday as usize]),
        _ if then.year == today.year && days_ago > 0 => {
            format!("{} {}", then.day, MONTHS[then.month as usize - 1])
        }
        _ => format!(
            "{} {} {}",
            then.day,
            MONTHS[then.month as usize - 1],
            then.year
        ),
    }
}

/// A date in full, in local time with its offset: "Mon 2 Nov 2026, 10:00 (UTC+01:00)".
pub fn full_local(unix: i64, offset: &dyn Fn(i64) -> i64) -> String {
    let c = local(unix, offset);
    let off = offset(unix);
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{} {} {} {}, {:02}:{:02} (UTC{sign}{:02}:{:02})",
        DAYS[c.weekday as usize],
        c.day,
        MONTHS[c.month as usize - 1],
        c.year,
        c.hour,
        c.minute,
        off.abs() / 3600,
        off.abs() % 3600 / 60
    )
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 6: every date was UTC and said nothing of it.
    #[test]
    fn list_dates_are_local_and_relative() {
        // Mon 2 Nov 2026 10:00 UTC, seen from UTC+1 (Berlin in winter).
        let now = 1_793_613_600;
        let berlin = |_: i64| 3600;
        assert_eq!(relative(now - 60, now, &berlin), "Today 10:59");
        // 23:30 UTC on Sunday is 00:30 on Monday in Berlin: today, not yesterday.
        assert_eq!(
            relative(now - 10 * 3600 - 1800, now, &berlin),
            "Today 00:30"
        );
        assert_eq!(relative(now - 86_400, now, &berlin), "Yesterday 11:00");
        assert_eq!(relative(now - 3 * 86_400, now, &berlin), "Fri 11:00");
        assert_eq!(relative(now - 30 * 86_400, now, &berlin), "3 Oct");
        assert_eq!(relative(now - 400 * 86_400, now, &berlin), "28 Sep 2025");
        // New York, five hours behind UTC: 02:00 UTC Monday is Sunday evening.
        let new_york = |_: i64| -5 * 3600;
        assert_eq!(relative(now - 8 * 3600, now, &new_york), "Yesterday 21:00");
        assert_eq!(
            full_local(now, &berlin),
            "Mon 2 Nov 2026, 11:00 (UTC+01:00)"
        );
        assert_eq!(
            full_local(now, &new_york),
            "Mon 2 Nov 2026, 05:00 (UTC-05:00)"
        );
        for unix in [0, 951_782_400, now] {
            let c = Civil::from_unix(unix);
            assert_eq!(
                days_from_civil(c.year, c.month, c.day),
                unix.div_euclid(86_400)
            );
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(Civil::from_unix(0).asctime(), "Thu Jan  1 00:00:00 1970");
        assert_eq!(
            Civil::from_unix(1_793_613_600).asctime(),
            "Mon Nov  2 10:00:00 2026"
        );
        assert_eq!(
            Civil::from_unix(951_782_400).asctime(),
            "Tue Feb 29 00:00:00 2000"
        );
        assert_eq!(Civil::from_unix(1_793_613_600).short(), "2026-11-02 10:00");
        assert_eq!(Civil::from_unix(-1).short(), "1969-12-31 23:59");
        assert_eq!(
            Civil::from_unix(1_793_613_600).rfc5322(),
            "Mon, 2 Nov 2026 10:00:00 +0000"
        );
    }
}
