//! ISO-8601 datetimes as nanoseconds since the Unix epoch (proleptic Gregorian, UTC).

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS[.fff…]` (UTC).
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m as u32) as i64 {
        return None;
    }
    let mut nanos = days_from_civil(y, m as u32, d as u32) * SECS_PER_DAY * NANOS_PER_SEC;
    if b.len() == 10 {
        return Some(nanos);
    }
    if b.len() < 19 || (b[10] != b' ' && b[10] != b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hh, mm, ss) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    nanos += (hh * 3600 + mm * 60 + ss) * NANOS_PER_SEC;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() > 29 {
            return None;
        }
        let frac = &b[20..];
        let value = digits(frac)?;
        nanos += value * 10i64.pow(9 - frac.len() as u32);
    }
    Some(nanos)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Formats as pandas does: `YYYY-MM-DD HH:MM:SS`, with a fraction only when non-zero.
pub fn format(nanos: i64) -> String {
    let secs = nanos.div_euclid(NANOS_PER_SEC);
    let frac = nanos.rem_euclid(NANOS_PER_SEC);
    let (days, sod) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if frac != 0 {
        out.push_str(&format!(".{frac:09}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates_and_times() {
        for s in [
            "1970-01-01 00:00:00",
            "2013-01-01 05:00:00",
            "1969-12-31 23:59:59",
            "2000-02-29 12:30:00",
        ] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
        assert_eq!(
            parse("2013-01-02").unwrap(),
            15_707 * SECS_PER_DAY * NANOS_PER_SEC
        );
        assert_eq!(
            format(parse("2013-01-01T05:00:00.5").unwrap()),
            "2013-01-01 05:00:00.500000000"
        );
    }

    #[test]
    fn rejects_invalid_dates() {
        for s in [
            "2013-02-30",
            "2013-13-01",
            "2013-1-01",
            "hello",
            "2013-01-01 25:00:00",
            "2013-01-01X",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
