//! Several sinks as one: `--server` given more than once (or as a
//! comma-separated list), for a fleet whose clusters are indexed by
//! different sink replicas (`audit-sink serve --index-subjects …`).
//!
//! - `search` asks every sink for a page and merges the answers newest first
//!   in the order the sinks themselves use ([`audit_api::order`]), so the
//!   merge is exact. The page token is one opaque string holding every
//!   sink's position (base64 of JSON); `--page-token` resumes each sink
//!   where it stopped, and a sink that has nothing more stays finished.
//! - An event held by more than one sink (two replicas indexing the same
//!   clusters) is shown once: its copies have the same sort key, so they
//!   meet at the head of the merge and every copy is consumed together.
//! - `stats` adds up every sink's counts and histogram buckets.
//! - `tail` follows every sink and prints events as they arrive.
//! - A sink that fails fails the command, naming it; with
//!   `--skip-unavailable`, a sink that cannot be reached or answers 5xx is
//!   left out with a warning on stderr.
//!
//! With one sink, every call goes straight to it and its own cursor is the
//! page token, exactly as before.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use audit_api::api::{
    DEFAULT_LIMIT, FieldCount, FollowParams, HistogramBucket, MAX_LIMIT, SearchParams,
    SearchResponse, StatsParams, StatsResponse,
};
use audit_api::{Event, order};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::join_all;
use kubectl_kit::KitError;
use serde_json::value::RawValue;

use crate::cli::{ClusterFlags, SinkFlags};
use crate::client::{EventStream, Sink, SinkError};

/// The most groups a sink returns for `stats` (it clamps `top` there): asking
/// each sink for that many lets the sums be exact unless one of them holds more.
const STATS_GROUPS: usize = 10_000;

/// How many recent events `tail` remembers to drop the copies other sinks send.
const FOLLOW_MEMORY: usize = 100_000;

/// The sinks a command talks to: one, or several merged.
pub struct Sinks {
    sinks: Vec<Sink>,
    skip_unavailable: bool,
}

impl Sinks {
    /// Connects as the flags say: several `--server` URLs, or one sink
    /// chosen as [`Sink::connect`] does.
    pub async fn connect(
        flags: &SinkFlags,
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
    ) -> anyhow::Result<Sinks> {
        let mut servers: Vec<String> = Vec::new();
        for s in &flags.server {
            let s = s.trim().trim_end_matches('/').to_string();
            if !servers.contains(&s) {
                servers.push(s);
            }
        }
        if servers.len() <= 1 {
            let flags = SinkFlags {
                server: servers,
                ..flags.clone()
            };
            let sink = Sink::connect(&flags, cluster, namespace, streaming).await?;
            return Ok(Sinks {
                sinks: vec![sink],
                skip_unavailable: false,
            });
        }
        if flags.service.is_some() || flags.index.is_some() {
            return Err(KitError::usage(
                "give only one of --server, --service and --index (several --server URLs are fine)",
            )
            .into());
        }
        let sinks = servers
            .iter()
            .map(|s| Sink::connect_server(s, flags, cluster))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Sinks {
            sinks,
            skip_unavailable: flags.skip_unavailable,
        })
    }

    /// Where the sinks are, for messages.
    pub fn address(&self) -> String {
        self.sinks
            .iter()
            .map(Sink::address)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One page of events, newest first; `next` resumes every sink.
    pub async fn search(&self, params: &SearchParams) -> anyhow::Result<SearchResponse> {
        match self.sinks.as_slice() {
            [one] => one.search(params).await,
            many => self.merged_search(many, params).await,
        }
    }

    /// Counts, added up over every sink.
    pub async fn stats(&self, params: &StatsParams) -> anyhow::Result<StatsResponse> {
        match self.sinks.as_slice() {
            [one] => one.stats(params).await,
            many => self.merged_stats(many, params).await,
        }
    }

    /// The live stream of every sink.
    pub async fn follow(&self, params: &FollowParams) -> anyhow::Result<Follow> {
        if let [one] = self.sinks.as_slice() {
            return Ok(Follow::One(Box::new(one.follow(params).await?)));
        }
        let opened = join_all(self.sinks.iter().map(|s| s.follow(params))).await;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let mut open = 0;
        for (sink, stream) in self.sinks.iter().zip(opened) {
            match stream {
                Ok(stream) => {
                    open += 1;
                    tokio::spawn(forward(sink.address().to_string(), stream, tx.clone()));
                }
                Err(e) => self.leave_out(sink, e)?,
            }
        }
        if open == 0 {
            anyhow::bail!(
                "none of the audit sinks could be followed: {}",
                self.address()
            );
        }
        Ok(Follow::Many(MergedFollow {
            rx,
            open,
            skip_unavailable: self.skip_unavailable,
            recent: Recent::default(),
        }))
    }

    /// With `--skip-unavailable`, warns that `sink` is left out when `err`
    /// says it is down; otherwise gives the error back.
    fn leave_out(&self, sink: &Sink, err: anyhow::Error) -> anyhow::Result<()> {
        if self.skip_unavailable && unavailable(&err) {
            eprintln!(
                "warning: leaving out the audit sink at {} (--skip-unavailable): its events are missing from this answer\n  cause: {}",
                sink.address(),
                one_line(&err)
            );
            return Ok(());
        }
        Err(err)
    }

    async fn merged_search(
        &self,
        sinks: &[Sink],
        params: &SearchParams,
    ) -> anyhow::Result<SearchResponse> {
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let positions = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => vec![Position::Start; sinks.len()],
            Some(token) => decode_token(token, sinks)?,
        };
        let page_of = |sink, cursor| page(sink, params, limit, cursor);
        let mut lanes: Vec<Lane> = sinks
            .iter()
            .zip(positions)
            .map(|(sink, position)| Lane {
                sink,
                position,
                buffer: VecDeque::new(),
                more: None,
                asked: false,
                left_out: false,
            })
            .collect();
        // Every sink's first page at once.
        let first = join_all(
            lanes
                .iter()
                .filter(|l| l.position != Position::Done)
                .map(|l| page_of(l.sink, l.position.cursor())),
        )
        .await;
        let mut first = first.into_iter();
        for lane in lanes.iter_mut().filter(|l| l.position != Position::Done) {
            match first.next().expect("one answer per sink asked") {
                Ok(page) => lane.fill(page)?,
                Err(e) => {
                    self.leave_out(lane.sink, e)?;
                    lane.left_out = true;
                }
            }
        }

        let mut events = Vec::new();
        while events.len() < limit {
            // A sink whose page ran out while it has more is asked again
            // before anything is compared with its next event.
            for lane in lanes.iter_mut() {
                if lane.buffer.is_empty()
                    && let Some(next) = lane.more.take()
                {
                    match page_of(lane.sink, Some(next)).await {
                        Ok(page) => lane.fill(page)?,
                        Err(e) => {
                            self.leave_out(lane.sink, e)?;
                            lane.asked = false;
                            lane.left_out = true;
                        }
                    }
                }
            }
            let Some(newest) = lanes
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.buffer.front().map(|e| (e.sort_key, i)))
                .max()
                .map(|(_, i)| i)
            else {
                break;
            };
            let event = lanes[newest].pop();
            // The same event held by other sinks is at their head too.
            for lane in lanes.iter_mut() {
                while lane
                    .buffer
                    .front()
                    .is_some_and(|e| e.sort_key == event.sort_key && e.key == event.key)
                {
                    lane.pop();
                }
            }
            events.push(event.raw);
        }

        for lane in lanes.iter_mut() {
            if lane.asked && lane.buffer.is_empty() && lane.more.is_none() {
                lane.position = Position::Done;
            }
        }
        // A sink left out keeps its position in the token, but does not by
        // itself make another page: the listing ends when the others do.
        let next = if lanes
            .iter()
            .all(|l| l.position == Position::Done || l.left_out)
        {
            None
        } else {
            Some(encode_token(&lanes))
        };
        Ok(SearchResponse { events, next })
    }

    async fn merged_stats(
        &self,
        sinks: &[Sink],
        params: &StatsParams,
    ) -> anyhow::Result<StatsResponse> {
        let wanted = params.top.unwrap_or(10);
        let each = StatsParams {
            top: Some(STATS_GROUPS),
            ..params.clone()
        };
        let answers = join_all(sinks.iter().map(|s| s.stats(&each))).await;
        let mut total = 0;
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut buckets: BTreeMap<jiff::Timestamp, (String, u64)> = BTreeMap::new();
        let mut answered = 0;
        for (sink, answer) in sinks.iter().zip(answers) {
            let stats = match answer {
                Ok(s) => s,
                Err(e) => {
                    self.leave_out(sink, e)?;
                    continue;
                }
            };
            answered += 1;
            if stats.counts.len() >= STATS_GROUPS {
                eprintln!(
                    "warning: the audit sink at {} has more than {STATS_GROUPS} groups: counts of the smallest ones may be missing from the sums",
                    sink.address()
                );
            }
            total += stats.total;
            for c in stats.counts {
                *counts.entry(c.value).or_default() += c.count;
            }
            for b in stats.histogram {
                let at: jiff::Timestamp = b.start.parse().map_err(|e| SinkError::Protocol {
                    address: sink.address().to_string(),
                    message: format!("histogram bucket start {:?}: {e}", b.start),
                })?;
                buckets.entry(at).or_insert((b.start, 0)).1 += b.count;
            }
        }
        if answered == 0 {
            anyhow::bail!("none of the audit sinks answered: {}", self.address());
        }
        let mut counts: Vec<FieldCount> = counts
            .into_iter()
            .map(|(value, count)| FieldCount { value, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        counts.truncate(wanted);
        Ok(StatsResponse {
            total,
            by: params.by.clone(),
            counts,
            histogram: buckets
                .into_values()
                .map(|(start, count)| HistogramBucket { start, count })
                .collect(),
        })
    }
}

/// One page of one sink's events after `cursor`.
async fn page(
    sink: &Sink,
    params: &SearchParams,
    limit: usize,
    cursor: Option<String>,
) -> anyhow::Result<SearchResponse> {
    let params = SearchParams {
        limit: Some(limit),
        cursor,
        ..params.clone()
    };
    sink.search(&params).await
}

/// Where one sink is in a merged listing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// Nothing read yet: from the newest event.
    Start,
    /// After the event with this sort key.
    After(u64),
    /// Everything read.
    Done,
}

impl Position {
    fn cursor(&self) -> Option<String> {
        match self {
            Position::After(k) => Some(order::cursor(*k)),
            _ => None,
        }
    }
}

/// One event of a sink's page, with its place in the order.
struct Pending {
    sort_key: u64,
    key: String,
    raw: Box<RawValue>,
}

/// One sink's part of a merged page.
struct Lane<'a> {
    sink: &'a Sink,
    position: Position,
    buffer: VecDeque<Pending>,
    /// The sink's cursor for what its page did not hold.
    more: Option<String>,
    /// Whether the sink answered (a sink left out keeps its position).
    asked: bool,
    /// Whether the sink was left out of this page (`--skip-unavailable`).
    left_out: bool,
}

impl Lane<'_> {
    fn fill(&mut self, page: SearchResponse) -> anyhow::Result<()> {
        self.asked = true;
        self.more = page.next.filter(|n| !n.is_empty());
        for raw in page.events {
            let placed = serde_json::from_str::<Event>(raw.get())
                .map_err(|e| e.to_string())
                .and_then(|event| {
                    order::event_sort_key(&event)
                        .map(|sort_key| (sort_key, event.dedup_key()))
                        .map_err(|e| e.to_string())
                });
            let (sort_key, key) = placed.map_err(|message| SinkError::Protocol {
                address: self.sink.address().to_string(),
                message: format!(
                    "an event in its search answer cannot be placed in order: {message}"
                ),
            })?;
            self.buffer.push_back(Pending { sort_key, key, raw });
        }
        Ok(())
    }

    fn pop(&mut self) -> Pending {
        let event = self
            .buffer
            .pop_front()
            .expect("a lane is popped at its head");
        self.position = Position::After(event.sort_key);
        event
    }
}

/// The page token of a merged listing: base64 of
/// `{"v":1,"at":{"URL":"start"|"CURSOR"|"done",…}}`, naming every sink.
#[derive(serde::Serialize, serde::Deserialize)]
struct Token {
    v: u32,
    at: BTreeMap<String, String>,
}

const START: &str = "start";
const DONE: &str = "done";

fn encode_token(lanes: &[Lane]) -> String {
    let at = lanes
        .iter()
        .map(|l| {
            let value = match l.position {
                Position::Start => START.to_string(),
                Position::After(k) => order::cursor(k),
                Position::Done => DONE.to_string(),
            };
            (l.sink.address().to_string(), value)
        })
        .collect();
    let json = serde_json::to_vec(&Token { v: 1, at }).expect("a token serialises");
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_token(token: &str, sinks: &[Sink]) -> anyhow::Result<Vec<Position>> {
    let usage = |why: &str| {
        KitError::usage(format!(
            "--page-token: {why}; pass the token printed by the previous search with the same --server URLs"
        ))
    };
    let parsed: Token = URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| usage("not a page token of a search over several sinks"))?;
    if parsed.v != 1 {
        return Err(usage(&format!(
            "token version {} is not known to this kubectl-audit",
            parsed.v
        ))
        .into());
    }
    let servers: Vec<&str> = sinks.iter().map(Sink::address).collect();
    let named: Vec<&str> = parsed.at.keys().map(String::as_str).collect();
    let mut given = servers.clone();
    given.sort_unstable();
    if named != given {
        return Err(usage(&format!(
            "the token was made for the sinks {}, not for {}",
            named.join(", "),
            servers.join(", ")
        ))
        .into());
    }
    sinks
        .iter()
        .map(|s| match parsed.at.get(s.address()).map(String::as_str) {
            None | Some(START) => Ok(Position::Start),
            Some(DONE) => Ok(Position::Done),
            Some(c) => order::parse_cursor(c).map(Position::After).ok_or_else(|| {
                usage(&format!(
                    "the position {c:?} for {} is not a cursor",
                    s.address()
                ))
                .into()
            }),
        })
        .collect()
}

/// Whether an error means the sink is down or broken (not that the
/// request or the credential was wrong).
fn unavailable(err: &anyhow::Error) -> bool {
    match err.downcast_ref::<SinkError>() {
        Some(SinkError::Unreachable { .. } | SinkError::Protocol { .. }) => true,
        Some(SinkError::Status { code, .. }) => *code >= 500,
        _ => false,
    }
}

fn one_line(err: &anyhow::Error) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Live events of one sink or of several.
pub enum Follow {
    /// One sink's stream.
    One(Box<EventStream>),
    /// Several, interleaved as they arrive.
    Many(MergedFollow),
}

impl Follow {
    /// The next event; `None` when the stream ended.
    pub async fn next(&mut self) -> anyhow::Result<Option<Box<RawValue>>> {
        match self {
            Follow::One(stream) => stream.next().await,
            Follow::Many(merged) => merged.next().await,
        }
    }
}

/// What one sink's stream reader reports.
enum Arrival {
    Event(Box<RawValue>),
    Ended(String),
    Failed(String, anyhow::Error),
}

/// The streams of several sinks, read by one task each.
pub struct MergedFollow {
    rx: tokio::sync::mpsc::Receiver<Arrival>,
    open: usize,
    skip_unavailable: bool,
    recent: Recent,
}

impl MergedFollow {
    async fn next(&mut self) -> anyhow::Result<Option<Box<RawValue>>> {
        while self.open > 0 {
            let Some(arrival) = self.rx.recv().await else {
                return Ok(None);
            };
            let (address, err) = match arrival {
                Arrival::Event(raw) => {
                    let key = serde_json::from_str::<Event>(raw.get())
                        .map(|e| e.dedup_key())
                        .unwrap_or_else(|_| raw.get().to_string());
                    if self.recent.insert(key) {
                        return Ok(Some(raw));
                    }
                    continue;
                }
                Arrival::Ended(address) => {
                    let err = anyhow::anyhow!(
                        "the audit sink at {address} ended the live stream (was it restarted?); run the command again to resume"
                    );
                    (address, err)
                }
                Arrival::Failed(address, err) => (address, err),
            };
            self.open -= 1;
            if !self.skip_unavailable {
                return Err(err);
            }
            eprintln!(
                "warning: no longer following the audit sink at {address} (--skip-unavailable): {}",
                one_line(&err)
            );
        }
        Ok(None)
    }
}

async fn forward(address: String, mut stream: EventStream, tx: tokio::sync::mpsc::Sender<Arrival>) {
    loop {
        let arrival = match stream.next().await {
            Ok(Some(raw)) => Arrival::Event(raw),
            Ok(None) => Arrival::Ended(address.clone()),
            Err(e) => Arrival::Failed(address.clone(), e),
        };
        let last = !matches!(arrival, Arrival::Event(_));
        if tx.send(arrival).await.is_err() || last {
            return;
        }
    }
}

/// The keys of the last [`FOLLOW_MEMORY`] events followed.
#[derive(Default)]
struct Recent {
    keys: HashSet<String>,
    order: VecDeque<String>,
}

impl Recent {
    /// Remembers `key`; false when it was already there.
    fn insert(&mut self, key: String) -> bool {
        if self.keys.contains(&key) {
            return false;
        }
        if self.order.len() >= FOLLOW_MEMORY
            && let Some(old) = self.order.pop_front()
        {
            self.keys.remove(&old);
        }
        self.keys.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_drops_copies_and_forgets_the_oldest() {
        let mut r = Recent::default();
        assert!(r.insert("a".into()));
        assert!(!r.insert("a".into()));
        for i in 0..FOLLOW_MEMORY {
            assert!(r.insert(i.to_string()));
        }
        assert!(
            r.insert("a".into()),
            "forgotten after {FOLLOW_MEMORY} others"
        );
    }

    #[test]
    fn positions_give_the_sink_cursor() {
        assert_eq!(Position::Start.cursor(), None);
        assert_eq!(Position::Done.cursor(), None);
        assert_eq!(Position::After(255).cursor().as_deref(), Some("ff"));
    }
}
