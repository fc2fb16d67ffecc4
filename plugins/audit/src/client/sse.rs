//! Decoding the sink's live stream: server-sent events (`data: {…}` lines, a
//! blank line ends an event, `:` lines are keep-alives), and plain JSON lines.

/// Splits a byte stream into the payloads of its events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the payloads of the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut done = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.line_done(&String::from_utf8_lossy(&line), &mut done);
            } else {
                self.line.push(b);
            }
        }
        done
    }

    /// The payload still pending when the stream ends.
    pub fn finish(&mut self) -> Option<String> {
        let mut done = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&String::from_utf8_lossy(&line), &mut done);
        }
        self.line_done("", &mut done);
        done.pop()
    }

    fn line_done(&mut self, line: &str, done: &mut Vec<String>) {
        if line.is_empty() {
            if let Some(data) = self.data.take()
                && !data.is_empty()
            {
                done.push(data);
            }
        } else if let Some(rest) = line.strip_prefix("data:") {
            let value = rest.strip_prefix(' ').unwrap_or(rest);
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            }
        } else if line.starts_with('{') && self.data.is_none() {
            // JSON lines framing: one event per line.
            done.push(line.to_string());
        }
        // `event:`, `id:`, `retry:` and `:` comments carry nothing we need.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut d = SseDecoder::default();
        assert!(d.push(b": keep-alive\n\nda").is_empty());
        assert!(d.push(b"ta: {\"a\":1}\r").is_empty());
        assert_eq!(
            d.push(b"\n\r\ndata: {\"b\":2}\n\n"),
            ["{\"a\":1}", "{\"b\":2}"]
        );
    }

    #[test]
    fn multi_line_data_and_json_lines() {
        let mut d = SseDecoder::default();
        assert_eq!(
            d.push(b"event: audit\ndata: {\"a\":\ndata: 1}\n\n"),
            ["{\"a\":\n1}"]
        );
        assert_eq!(
            d.push(b"{\"c\":3}\n{\"d\":4}\n"),
            ["{\"c\":3}", "{\"d\":4}"]
        );
        assert!(d.push(b"data: {\"e\":5}").is_empty());
        assert_eq!(d.finish().as_deref(), Some("{\"e\":5}"));
    }
}
