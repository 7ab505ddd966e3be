//! Pagination for the List operations: MaxResults and opaque NextToken values.
//!
//! A token names the creation sequence number of the next row to return, so a page is
//! stable under inserts and deletes, plus a checksum over the list it belongs to (the
//! operation and its filters), so a token from another list or a mangled one is rejected.

/// The page size when MaxResults is absent or 0; the model names no default.
pub const DEFAULT_PAGE_SIZE: usize = 50;

const TOKEN_HEX_DIGITS: usize = 32;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid NextToken: it was not issued for this list and these filters")]
pub struct InvalidToken;

/// Which list a token belongs to, e.g. `ListSyncConfigurations|<link id>|CFN_STACK_SYNC`.
pub struct Scope(String);

impl Scope {
    pub fn new(parts: &[&str]) -> Self {
        Self(parts.join("|"))
    }

    fn checksum(&self, sequence: u64) -> u64 {
        // FNV-1a: tokens only need to detect mistakes, not resist forgery.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.0.bytes().chain(sequence.to_le_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash
    }

    pub fn encode(&self, sequence: u64) -> String {
        format!("{sequence:016x}{:016x}", self.checksum(sequence))
    }

    /// The sequence number a token resumes from.
    pub fn decode(&self, token: &str) -> Result<u64, InvalidToken> {
        if token.len() != TOKEN_HEX_DIGITS || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidToken);
        }
        let (sequence, checksum) = token.split_at(TOKEN_HEX_DIGITS / 2);
        let sequence = u64::from_str_radix(sequence, 16).map_err(|_| InvalidToken)?;
        let checksum = u64::from_str_radix(checksum, 16).map_err(|_| InvalidToken)?;
        if checksum == self.checksum(sequence) {
            Ok(sequence)
        } else {
            Err(InvalidToken)
        }
    }
}

pub fn page_size(max_results: Option<u32>) -> usize {
    match max_results {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(size) => usize::try_from(size).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

/// One page of a list, and the token of the next page when rows remain.
pub struct Page<'a, T> {
    pub items: Vec<&'a T>,
    pub next_token: Option<String>,
}

/// Takes one page from rows in sequence order.
pub fn take_page<'a, T: 'a>(
    rows: impl Iterator<Item = (u64, &'a T)>,
    size: usize,
    scope: &Scope,
) -> Page<'a, T> {
    let mut rows = rows.peekable();
    let items: Vec<&T> = rows.by_ref().take(size).map(|(_, row)| row).collect();
    let next_token = rows.peek().map(|(sequence, _)| scope.encode(*sequence));
    Page { items, next_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_within_their_scope() {
        let scope = Scope::new(&["ListHosts"]);
        let token = scope.encode(42);
        assert_eq!(token.len(), 32);
        assert_eq!(scope.decode(&token), Ok(42));
    }

    #[test]
    fn tokens_from_another_list_or_mangled_are_rejected() {
        let scope = Scope::new(&["ListSyncConfigurations", "link-a", "CFN_STACK_SYNC"]);
        let other = Scope::new(&["ListSyncConfigurations", "link-b", "CFN_STACK_SYNC"]);
        let token = scope.encode(7);
        assert_eq!(other.decode(&token), Err(InvalidToken));
        let mut mangled = token.clone();
        mangled.replace_range(15..16, if &token[15..16] == "0" { "1" } else { "0" });
        assert_eq!(scope.decode(&mangled), Err(InvalidToken));
        assert_eq!(scope.decode("not-a-token"), Err(InvalidToken));
        assert_eq!(scope.decode(""), Err(InvalidToken));
        assert_eq!(scope.decode(&"é".repeat(16)), Err(InvalidToken));
    }

    #[test]
    fn pages_end_without_a_token() {
        let rows = [(1, 'a'), (2, 'b'), (5, 'c')];
        let scope = Scope::new(&["ListHosts"]);
        let page = take_page(rows.iter().map(|(s, r)| (*s, r)), 2, &scope);
        assert_eq!(page.items, [&'a', &'b']);
        assert_eq!(
            page.next_token.as_deref().map(|t| scope.decode(t)),
            Some(Ok(5))
        );
        let page = take_page(rows.iter().map(|(s, r)| (*s, r)), 3, &scope);
        assert_eq!(page.items.len(), 3);
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn page_size_defaults_when_absent_or_zero() {
        assert_eq!(page_size(None), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(0)), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(7)), 7);
    }
}
