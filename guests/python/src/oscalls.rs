//! The OS requests Monty suspends on (`os.getenv`, `datetime.now()`, file
//! access), answered from WASI.

use std::time::{SystemTime, UNIX_EPOCH};

use monty_types::{
    DictPairs, ExcType, ExtFunctionResult, MontyDate, MontyDateTime, MontyException, MontyObject, OsFunctionCall,
};

/// The answer to one OS request.
pub fn answer(call: OsFunctionCall) -> ExtFunctionResult {
    match call {
        OsFunctionCall::Getenv(args) => match std::env::var(&args.key) {
            Ok(value) => MontyObject::String(value).into(),
            Err(_) => args.default.into(),
        },
        OsFunctionCall::GetEnviron => {
            let pairs: Vec<_> =
                std::env::vars().map(|(k, v)| (MontyObject::String(k), MontyObject::String(v))).collect();
            MontyObject::Dict(DictPairs::from(pairs)).into()
        }
        OsFunctionCall::DateToday => {
            let now = Civil::now(0);
            MontyObject::Date(MontyDate { year: now.year, month: now.month, day: now.day }).into()
        }
        OsFunctionCall::DateTimeNow(zone) => {
            // The sandbox's local time is UTC: a naive `now()` is UTC too.
            let offset = zone.as_ref().map_or(0, |z| z.offset_seconds);
            let now = Civil::now(offset);
            MontyObject::DateTime(MontyDateTime {
                year: now.year,
                month: now.month,
                day: now.day,
                hour: now.hour,
                minute: now.minute,
                second: now.second,
                microsecond: now.microsecond,
                offset_seconds: zone.as_ref().map(|z| z.offset_seconds),
                timezone_name: zone.and_then(|z| z.name),
            })
            .into()
        }
        other => MontyException::new(
            ExcType::PermissionError,
            Some(format!("{}: file access is not available to Python code in Airlock", other.name())),
        )
        .into(),
    }
}

/// A wall-clock time broken into calendar fields.
struct Civil {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    microsecond: u32,
}

impl Civil {
    /// Now, `offset` seconds east of UTC.
    fn now(offset: i32) -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let seconds = i64::try_from(since.as_secs()).unwrap_or(0) + i64::from(offset);
        let (days, in_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day % 3600 / 60) as u8,
            second: (in_day % 60) as u8,
            microsecond: since.subsec_micros(),
        }
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (i32::try_from(year).unwrap_or(1970), month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(super::civil_from_days(-1), (1969, 12, 31));
    }
}
