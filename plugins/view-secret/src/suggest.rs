//! "Did you mean": names close to one that was not found.

/// Up to `limit` of `candidates` that look like `wanted`: sharing a prefix,
/// containing it (or contained in it), or within a small edit distance.
/// Closest first.
pub fn similar<'a>(wanted: &str, candidates: &'a [String], limit: usize) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let max_distance = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .filter(|c| c.as_str() != wanted)
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let distance = edit_distance(&wanted_lower, &lower);
            let related = lower.starts_with(&wanted_lower)
                || wanted_lower.starts_with(&lower)
                || (wanted_lower.len() >= 3 && lower.contains(&wanted_lower))
                || distance <= max_distance;
            related.then_some((distance, c.as_str()))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(limit).map(|(_, c)| c).collect()
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn typos_prefixes_and_parts_are_suggested() {
        let names: Vec<String> = [
            "db-credentials",
            "db-backup",
            "api-tls",
            "registry",
            "unrelated-thing",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(similar("db", &names, 5), ["db-backup", "db-credentials"]);
        assert_eq!(similar("db-credentails", &names, 5), ["db-credentials"]);
        assert_eq!(similar("tls", &names, 5), ["api-tls"]);
        assert_eq!(similar("regsitry", &names, 5), ["registry"]);
        assert!(similar("zzzzzzzz", &names, 5).is_empty());
        assert_eq!(similar("db", &names, 1).len(), 1);
    }
}
