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
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let b = Bitmap::new(100);
    /// assert_eq!((b.len(), b.count()), (100, 0));
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(130);
    /// b.insert(3);
    /// assert_eq!(b.len(), 130); // rows covered, not members
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it covers no rows.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// assert!(Bitmap::new(0).is_empty());
    /// assert!(!Bitmap::new(5).is_empty()); // five rows, none of them members
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds row `i` (ignored past the end).
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(10);
    /// b.insert(9);
    /// b.insert(10); // past the end: ignored
    /// assert_eq!(b.iter().collect::<Vec<_>>(), [9]);
    /// ```
    pub fn insert(&mut self, i: usize) {
        if i < self.len {
            self.words[i / 64] |= 1 << (i % 64);
        }
    }

    /// Whether row `i` is a member.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(10);
    /// b.insert(4);
    /// assert!(b.contains(4));
    /// assert!(!b.contains(5) && !b.contains(1_000));
    /// ```
    pub fn contains(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// The number of members.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(200);
    /// (0..200).step_by(3).for_each(|i| b.insert(i));
    /// assert_eq!(b.count(), 67);
    /// ```
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The number of rows that are members of both `self` and `other` (over the shorter
    /// length).
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
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(150);
    /// for i in [140, 2, 64] {
    ///     b.insert(i);
    /// }
    /// assert_eq!(b.iter().collect::<Vec<_>>(), [2, 64, 140]);
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::Bitmap;
    /// let mut b = Bitmap::new(100);
    /// b.insert(0);
    /// b.insert(65);
    /// assert_eq!(b.words(), [1, 2]);
    /// ```
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bitmap({} of {} rows)", self.count(), self.len)
    }
}
