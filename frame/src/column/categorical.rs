//! Categorical columns: codes into an ordered dictionary of strings.

use std::collections::HashMap;
use std::sync::Arc;

/// The code that marks a null row.
pub(crate) const NULL_CODE: u32 = u32::MAX;

/// Strings as `u32` codes into `categories`. Categories are ordered (sorting and min/max
/// follow the category order, as in pandas' ordered categoricals); built from values, they
/// are sorted bytewise, as pandas does.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    pub(crate) codes: Vec<u32>,
    pub(crate) categories: Arc<Vec<String>>,
}

impl Categorical {
    /// Encodes optional strings; categories are the distinct values, sorted.
    pub fn from_options<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Self {
        let values: Vec<Option<S>> = values.into_iter().collect();
        let mut categories: Vec<String> = values
            .iter()
            .flatten()
            .map(|s| s.as_ref().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        categories.dedup();
        let lookup: HashMap<&str, u32> = categories
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| v.as_ref().map_or(NULL_CODE, |s| lookup[s.as_ref()]))
            .collect();
        Categorical {
            codes,
            categories: Arc::new(categories),
        }
    }

    /// Codes into `categories` (`u32::MAX` for null); categories must be distinct and every
    /// code in range.
    pub(crate) fn from_parts(codes: Vec<u32>, categories: Vec<String>) -> Self {
        debug_assert!(
            codes
                .iter()
                .all(|&c| c == NULL_CODE || (c as usize) < categories.len())
        );
        Categorical {
            codes,
            categories: Arc::new(categories),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The ordered dictionary.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The codes (`u32::MAX` is null).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Row `i`, `None` when null.
    pub fn get(&self, i: usize) -> Option<&str> {
        let code = self.codes[i];
        (code != NULL_CODE).then(|| self.categories[code as usize].as_str())
    }

    pub(crate) fn with_codes(&self, codes: Vec<u32>) -> Self {
        Categorical {
            codes,
            categories: Arc::clone(&self.categories),
        }
    }
}
