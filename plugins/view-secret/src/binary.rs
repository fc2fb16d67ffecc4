//! Binary values on a terminal: a short hex dump instead of raw bytes.

use std::fmt::Write as _;

/// How many bytes the summary shows before stopping.
pub const SUMMARY_BYTES: usize = 128;

/// A hex dump of the first [`SUMMARY_BYTES`] bytes of `bytes` (offset, 16 bytes
/// in hex, their printable ASCII), headed by the size, and a closing line
/// saying how to get the bytes themselves.
pub fn hex_summary(bytes: &[u8]) -> String {
    let mut out = format!("binary value, {} bytes\n", bytes.len());
    let shown = &bytes[..bytes.len().min(SUMMARY_BYTES)];
    for (line, chunk) in shown.chunks(16).enumerate() {
        let _ = write!(out, "{:08x} ", line * 16);
        for i in 0..16 {
            if i == 8 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    if bytes.len() > shown.len() {
        let _ = writeln!(out, "… {} more bytes", bytes.len() - shown.len());
    }
    out.push_str("(redirect stdout to a file, or add --raw, to get the bytes)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_dumped_whole() {
        let dump = hex_summary(b"\x00\x01ABC\xff");
        assert_eq!(
            dump,
            "binary value, 6 bytes\n\
             00000000  00 01 41 42 43 ff                                 |..ABC.|\n\
             (redirect stdout to a file, or add --raw, to get the bytes)\n"
        );
    }

    #[test]
    fn long_values_are_cut_with_a_count() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let dump = hex_summary(&bytes);
        assert_eq!(dump.lines().count(), 1 + SUMMARY_BYTES / 16 + 2);
        assert!(dump.contains(
            "00000010  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  |................|"
        ));
        assert!(dump.contains("… 128 more bytes"), "{dump}");
    }
}
