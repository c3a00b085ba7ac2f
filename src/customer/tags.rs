//! Small sets of normalized text tags (interests, lifestyle, needs).

use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::validation::{ValidationError, check_count, check_len, limits};

/// A small set of text tags: trimmed, lowercased, sorted and without duplicates.
///
/// Tags compare case-insensitively because they are stored lowercased. Up to four tags live
/// inline without a separate allocation for the list. The [limits](crate::limits) are checked
/// when the customer is validated (on every store write).
///
/// # Example
///
/// ```
/// use clientele::TagSet;
///
/// let mut interests = TagSet::new();
/// interests.insert(" Sports ");
/// interests.insert("music");
/// interests.insert("SPORTS");
/// assert_eq!(interests.iter().collect::<Vec<_>>(), ["music", "sports"]);
/// assert!(interests.contains("Sports"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct TagSet(SmallVec<[String; 4]>);

impl TagSet {
    /// An empty set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::TagSet::new().is_empty());
    /// ```
    pub fn new() -> TagSet {
        TagSet(SmallVec::new())
    }

    /// The normalized form of a tag: trimmed and lowercased.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(clientele::TagSet::normalize("  Ёлка "), "ёлка");
    /// ```
    pub fn normalize(tag: &str) -> String {
        tag.trim().to_lowercase()
    }

    /// Adds a tag (normalized); returns whether it was new. Empty tags are ignored.
    ///
    /// # Example
    ///
    /// ```
    /// let mut t = clientele::TagSet::new();
    /// assert!(t.insert("Vegan"));
    /// assert!(!t.insert("vegan"));
    /// assert!(!t.insert("   "));
    /// ```
    pub fn insert(&mut self, tag: &str) -> bool {
        let tag = Self::normalize(tag);
        if tag.is_empty() {
            return false;
        }
        match self.0.binary_search(&tag) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, tag);
                true
            }
        }
    }

    /// Removes a tag; returns whether it was there.
    ///
    /// # Example
    ///
    /// ```
    /// let mut t: clientele::TagSet = ["golf"].into_iter().collect();
    /// assert!(t.remove("GOLF"));
    /// assert!(t.is_empty());
    /// ```
    pub fn remove(&mut self, tag: &str) -> bool {
        match self.0.binary_search(&Self::normalize(tag)) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the set holds `tag` (compared after normalizing it).
    ///
    /// # Example
    ///
    /// ```
    /// let t: clientele::TagSet = ["travel"].into_iter().collect();
    /// assert!(t.contains(" Travel"));
    /// ```
    pub fn contains(&self, tag: &str) -> bool {
        self.contains_normalized(&Self::normalize(tag))
    }

    /// Whether the set holds `tag`, which the caller has already normalized (no allocation).
    ///
    /// # Example
    ///
    /// ```
    /// let t: clientele::TagSet = ["travel"].into_iter().collect();
    /// assert!(t.contains_normalized("travel"));
    /// assert!(!t.contains_normalized("Travel"));
    /// ```
    pub fn contains_normalized(&self, tag: &str) -> bool {
        self.0.binary_search_by(|t| t.as_str().cmp(tag)).is_ok()
    }

    /// The tags in sorted order.
    ///
    /// # Example
    ///
    /// ```
    /// let t: clientele::TagSet = ["b", "a"].into_iter().collect();
    /// assert_eq!(t.iter().next(), Some("a"));
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The number of tags.
    ///
    /// # Example
    ///
    /// ```
    /// let t: clientele::TagSet = ["a", "A", "b"].into_iter().collect();
    /// assert_eq!(t.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no tags.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(clientele::TagSet::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the set against the tag limits.
    pub(crate) fn validate(&self, field: &str) -> Result<(), ValidationError> {
        check_count(field, self.0.len(), limits::MAX_TAGS)?;
        self.0.iter().try_for_each(|t| check_len(field, t, limits::MAX_TAG_BYTES))
    }
}

impl fmt::Debug for TagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> FromIterator<S> for TagSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> TagSet {
        // Sorted once rather than inserted one by one: keeping a list sorted by insertion is
        // quadratic, and deserialization feeds this untrusted lists of any length.
        let mut tags: SmallVec<[String; 4]> =
            iter.into_iter().map(|t| Self::normalize(t.as_ref())).filter(|t| !t.is_empty()).collect();
        tags.sort_unstable();
        tags.dedup();
        TagSet(tags)
    }
}

impl From<Vec<String>> for TagSet {
    fn from(v: Vec<String>) -> TagSet {
        v.into_iter().collect()
    }
}

impl From<TagSet> for Vec<String> {
    fn from(t: TagSet) -> Vec<String> {
        t.0.into_vec()
    }
}
