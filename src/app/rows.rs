//! The message list as the window holds it: the order of every message
//! (8 bytes each: a million take 8 MB) and the rows of those near the
//! screen, read from the store thread as they scroll into view. Drawing a
//! frame never touches more than the rows in view.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use super::library::Listing;
use crate::store::Summary;

/// Rows kept beyond those in view before the farthest are let go.
const KEEP: usize = 4_000;

#[derive(Debug, Default)]
pub struct Rows {
    ids: Arc<Vec<i64>>,
    complete: bool,
    loaded: HashMap<i64, Summary>,
    /// Asked of the store thread, not answered yet.
    asked: HashSet<i64>,
    /// Where the last position looked up was: the selected row's, asked
    /// every frame, is found without a scan.
    hint: Cell<usize>,
    /// The rows last in view.
    in_view: Range<usize>,
}

impl Rows {
    /// How many messages the list holds (so far, until it is complete).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the whole list is known (else its first screen only).
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// The id of the message at `i`.
    pub fn id(&self, i: usize) -> Option<i64> {
        self.ids.get(i).copied()
    }

    /// The row at `i`, if it has been read.
    pub fn get(&self, i: usize) -> Option<&Summary> {
        self.loaded.get(self.ids.get(i)?)
    }

    pub fn first(&self) -> Option<&Summary> {
        self.get(0)
    }

    /// The rows read so far, in the list's order (all of a short list).
    pub fn iter(&self) -> impl Iterator<Item = &Summary> {
        self.ids.iter().filter_map(|id| self.loaded.get(id))
    }

    /// The row of message `id`, if it has been read.
    pub fn row(&self, id: i64) -> Option<&Summary> {
        self.loaded.get(&id)
    }

    pub fn row_mut(&mut self, id: i64) -> Option<&mut Summary> {
        self.loaded.get_mut(&id)
    }

    /// Where message `id` is in the list.
    pub fn position(&self, id: i64) -> Option<usize> {
        let hint = self.hint.get();
        if self.ids.get(hint) == Some(&id) {
            return Some(hint);
        }
        let at = self.ids.iter().position(|&i| i == id)?;
        self.hint.set(at);
        Some(at)
    }

    /// Takes message `id` out of the list; where it was.
    pub fn remove(&mut self, id: i64) -> Option<usize> {
        let at = self.position(id)?;
        Arc::make_mut(&mut self.ids).remove(at);
        self.loaded.remove(&id);
        Some(at)
    }

    /// A new list from the store thread: the rows it brings are fresh, the
    /// others are let go (they may have changed).
    pub(crate) fn replace(&mut self, listing: Listing) {
        self.ids = listing.ids;
        self.complete = listing.complete;
        self.loaded = listing.rows.into_iter().map(|r| (r.id, r)).collect();
        self.asked.clear();
        self.hint.set(0);
    }

    /// Rows the store thread read as asked.
    pub(crate) fn add(&mut self, rows: Vec<Summary>) {
        for row in rows {
            self.asked.remove(&row.id);
            self.loaded.insert(row.id, row);
        }
        if self.loaded.len() > 2 * KEEP {
            // Let go of the rows farthest from the screen.
            let keep = self.in_view.start.saturating_sub(KEEP / 2)
                ..(self.in_view.end + KEEP / 2).min(self.ids.len());
            let near: HashSet<i64> = self.ids[keep].iter().copied().collect();
            self.loaded.retain(|id, _| near.contains(id));
        }
    }

    /// The rows in `view` are on the screen: the ids of those near it
    /// (a screen either side) not read or asked for yet, now asked for.
    pub(crate) fn wanted(&mut self, view: Range<usize>) -> Vec<i64> {
        self.in_view = view.clone();
        let span = view.len().max(1);
        let near = view.start.saturating_sub(span)..(view.end + span).min(self.ids.len());
        let mut out = Vec::new();
        for &id in &self.ids[near] {
            if !self.loaded.contains_key(&id) && self.asked.insert(id) {
                out.push(id);
            }
        }
        out
    }

    /// The ids of the rows in view (kept fresh by the next list).
    pub(crate) fn ids_in_view(&self) -> Vec<i64> {
        let end = self.in_view.end.min(self.ids.len());
        self.ids[self.in_view.start.min(end)..end].to_vec()
    }
}

impl std::ops::Index<usize> for Rows {
    type Output = Summary;

    /// The row at `i`; it must have been read (every row of a list of up
    /// to [`super::library::FIRST`] comes with it).
    fn index(&self, i: usize) -> &Summary {
        self.get(i)
            .unwrap_or_else(|| panic!("row {i} of the list has not been read yet"))
    }
}
