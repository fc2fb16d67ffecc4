//! The order of search results and what a search cursor means.
//!
//! The sink answers searches newest first by a *sort key*: microseconds
//! since 2000-01-01 of `requestReceivedTimestamp`, shifted left to leave the
//! low bits for a tie-breaker taken from the hash of the event's
//! idempotency key (auditID, stage, stageTimestamp). A cursor (`next` of a
//! search answer) is the sort key of the last event returned, in lower-case
//! hex; the next page holds the events with smaller keys. Defined here so
//! that a client merging the answers of several sinks orders them, and
//! resumes each one, exactly as the sinks do.

use sha2::{Digest, Sha256};

use crate::event::{Event, EventError};

/// 2000-01-01T00:00:00Z in microseconds since the Unix epoch.
const EPOCH_2000_MICROS: i64 = 946_684_800_000_000;
/// Low bits of the sort key that break ties between events of the same microsecond.
const SORT_TIE_BITS: u32 = 13;

/// Hash of an idempotency key ([`Event::dedup_key`]).
pub fn key_hash(dedup_key: &str) -> u64 {
    let digest = Sha256::digest(dedup_key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The sort key of an event received at `time_micros` with key hash `key`:
/// newer events have larger keys.
pub fn sort_key(time_micros: i64, key: u64) -> u64 {
    let since_2000 = (time_micros - EPOCH_2000_MICROS).clamp(0, (1i64 << (64 - SORT_TIE_BITS)) - 1);
    ((since_2000 as u64) << SORT_TIE_BITS) | (key & ((1 << SORT_TIE_BITS) - 1))
}

/// The sort key of an event, as the sink computes it when indexing it.
pub fn event_sort_key(event: &Event) -> Result<u64, EventError> {
    let time = event.received_at()?.as_microsecond();
    Ok(sort_key(time, key_hash(&event.dedup_key())))
}

/// The cursor that resumes a search after the event with this sort key.
pub fn cursor(sort_key: u64) -> String {
    format!("{sort_key:x}")
}

/// The sort key named by a cursor, if it is one.
pub fn parse_cursor(cursor: &str) -> Option<u64> {
    u64::from_str_radix(cursor, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_events_sort_first_whatever_their_tie_bits() {
        assert!(sort_key(2_000_000_000_000_000, 0) > sort_key(1_999_999_999_999_999, u64::MAX));
        assert_eq!(sort_key(0, 5), 5, "times before 2000 clamp to zero");
    }

    #[test]
    fn event_keys_follow_received_time_and_cursors_round_trip() {
        let event = |id: &str, at: &str| {
            Event::from_json(&format!(
                r#"{{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api","verb":"get","user":{{"username":"a"}},"requestReceivedTimestamp":"{at}","stageTimestamp":"{at}"}}"#
            ))
            .unwrap()
        };
        let old = event_sort_key(&event("a", "2025-01-01T00:00:00.000001Z")).unwrap();
        let new = event_sort_key(&event("b", "2025-01-01T00:00:00.000002Z")).unwrap();
        assert!(new > old);
        assert_eq!(parse_cursor(&cursor(new)), Some(new));
        assert_eq!(parse_cursor("not hex"), None);
        // The same idempotency key always gives the same position.
        assert_eq!(
            event_sort_key(&event("a", "2025-01-01T00:00:00.000001Z")).unwrap(),
            old
        );
    }
}
