//! A fixed-size set of row positions, one bit per row.

use std::fmt;

/// Segment membership over the rows of a [`Snapshot`](super::Snapshot): bit `i` is row `i`.
///
/// # Example
///
/// ```
/// use clientele::segment::Bitmap;
/// let mut b = Bitmap::new(130);
/// b.insert(0);
/// b.insert(129);
/// assert_eq!(b.count(), 2);
/// assert!(b.contains(129) && !b.contains(128));
/// assert_eq!(b.iter().collect::<Vec<_>>(), [0, 129]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// An empty bitmap over `len` rows.
    pub fn new(len: usize) -> Bitmap {
        Bitmap { words: vec![0; len.div_ceil(64)], len }
    }

    pub(crate) fn from_words(words: Vec<u64>, len: usize) -> Bitmap {
        let mut b = Bitmap { words, len };
        b.clear_tail();
        b
    }

    /// Zeroes the bits past `len` in the last word.
    fn clear_tail(&mut self) {
        let used = self.len % 64;
        if used != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << used) - 1;
            }
        }
    }

    /// The number of rows it covers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it covers no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds row `i` (ignored past the end).
    pub fn insert(&mut self, i: usize) {
        if i < self.len {
            self.words[i / 64] |= 1 << (i % 64);
        }
    }

    /// Whether row `i` is a member.
    pub fn contains(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// The number of members.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The members in `self` and in `other` (over the shorter length).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let (mut a, mut b) = (Bitmap::new(10), Bitmap::new(10));
    /// a.insert(1); a.insert(2); b.insert(2);
    /// assert_eq!(a.intersection_count(&b), 1);
    /// ```
    pub fn intersection_count(&self, other: &Bitmap) -> usize {
        self.words.iter().zip(&other.words).map(|(a, b)| (a & b).count_ones() as usize).sum()
    }

    /// The member rows in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    k * 64 + bit
                })
            })
        })
    }

    /// The raw words, 64 rows each, lowest row in the lowest bit.
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bitmap({} of {} rows)", self.count(), self.len)
    }
}
