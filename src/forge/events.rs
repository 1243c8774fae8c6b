//! The product event lodger's trigger receives: `avi:jira:created:issue`
//! (Forge: "Jira events", "Sending product events to a remote").
//!
//! Only what the remote reads is typed; Forge sends more. The issue's
//! `fields.created` gives the items their change time, so that a
//! redelivered event writes exactly the same checklist (its shape, e.g.
//! `2026-12-05T10:15:30.123+0000`, is Jira's; unverified for Forge events,
//! hence the fallback to the time of delivery).

use serde::Deserialize;

/// The event lodger subscribes to.
pub const ISSUE_CREATED: &str = "avi:jira:created:issue";

/// `avi:jira:created:issue`, as far as lodger reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueCreated {
    /// The event's type.
    #[serde(default)]
    pub event_type: Option<String>,
    /// The new issue.
    pub issue: Issue,
}

/// The issue of an event.
#[derive(Debug, Deserialize)]
pub struct Issue {
    /// The issue's id.
    pub id: String,
    /// Its fields.
    pub fields: Fields,
}

/// The fields lodger reads.
#[derive(Debug, Deserialize)]
pub struct Fields {
    /// The issue's project.
    pub project: Project,
    /// When the issue was created.
    #[serde(default)]
    pub created: Option<String>,
}

/// A project, by id.
#[derive(Debug, Deserialize)]
pub struct Project {
    /// The project's id.
    pub id: String,
}

impl IssueCreated {
    /// When the issue was created, in milliseconds since the epoch, if the
    /// event says so in a form lodger reads.
    pub fn created_ms(&self) -> Option<i64> {
        self.issue.fields.created.as_deref().and_then(jira_time_ms)
    }
}

/// Reads Jira's timestamp `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HHMM|±HH:MM)` as
/// milliseconds since the epoch.
pub fn jira_time_ms(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| text.as_bytes().get(at) != Some(&byte)) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let first_three = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = first_three.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits = rest[1..].replace(':', "");
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (hours, minutes) =
                (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?);
            sign * (hours * 60 + minutes)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::jira_time_ms;

    #[test]
    fn reads_jiras_timestamps_in_every_offset_form() {
        assert_eq!(jira_time_ms("1970-01-01T00:00:00.000+0000"), Some(0));
        assert_eq!(jira_time_ms("2026-12-05T10:15:30.123Z"), Some(1_796_465_730_123));
        assert_eq!(jira_time_ms("2026-12-05T21:15:30.123+1100"), Some(1_796_465_730_123));
        assert_eq!(jira_time_ms("2026-12-05T05:15:30.123-05:00"), Some(1_796_465_730_123));
        assert_eq!(jira_time_ms("2026-12-05T10:15:30Z"), Some(1_796_465_730_000));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for text in
            ["", "yesterday", "2026-13-05T10:15:30Z", "2026-12-05 10:15:30Z", "2026-12-05T10:15:30"]
        {
            assert_eq!(jira_time_ms(text), None, "{text}");
        }
    }
}
