//! `WithBot<L>` and `WithTop<L>`: adjoin a bottom or a top to any lattice.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, IsTop, LatticeFrom, Merge};

/// `L` with a fresh ⊥ (`None`) below every element — e.g. to give `Max<String>` a bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WithBot<L>(pub Option<L>);

impl<L> Default for WithBot<L> {
    fn default() -> Self {
        WithBot(None)
    }
}

impl<L> WithBot<L> {
    /// A non-bottom element.
    pub fn new(l: L) -> Self {
        WithBot(Some(l))
    }
}

impl<L: Merge> Merge for WithBot<L> {
    fn merge(&mut self, other: Self) -> bool {
        match (&mut self.0, other.0) {
            (_, None) => false,
            (None, Some(o)) => {
                self.0 = Some(o);
                true
            }
            (Some(s), Some(o)) => s.merge(o),
        }
    }
}

impl<L: PartialOrd> PartialOrd for WithBot<L> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (&self.0, &other.0) {
            (None, None) => Some(Ordering::Equal),
            (None, Some(_)) => Some(Ordering::Less),
            (Some(_), None) => Some(Ordering::Greater),
            (Some(a), Some(b)) => a.partial_cmp(b),
        }
    }
}

impl<L> IsBot for WithBot<L> {
    fn is_bot(&self) -> bool {
        self.0.is_none()
    }
}

impl<L: IsTop> IsTop for WithBot<L> {
    fn is_top(&self) -> bool {
        self.0.as_ref().is_some_and(IsTop::is_top)
    }
}

impl<L> LatticeFrom<WithBot<L>> for WithBot<L> {
    fn lattice_from(other: WithBot<L>) -> Self {
        other
    }
}

/// `L` with a fresh ⊤ (`None`) above every element: merging ⊤ absorbs everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WithTop<L>(pub Option<L>);

impl<L: Default> Default for WithTop<L> {
    fn default() -> Self {
        WithTop(Some(L::default()))
    }
}

impl<L> WithTop<L> {
    /// A non-top element.
    pub fn new(l: L) -> Self {
        WithTop(Some(l))
    }
    /// ⊤.
    pub fn top() -> Self {
        WithTop(None)
    }
}

impl<L: Merge> Merge for WithTop<L> {
    fn merge(&mut self, other: Self) -> bool {
        match (&mut self.0, other.0) {
            (None, _) => false,
            (Some(_), None) => {
                self.0 = None;
                true
            }
            (Some(s), Some(o)) => s.merge(o),
        }
    }
}

impl<L: PartialOrd> PartialOrd for WithTop<L> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (&self.0, &other.0) {
            (None, None) => Some(Ordering::Equal),
            (None, Some(_)) => Some(Ordering::Greater),
            (Some(_), None) => Some(Ordering::Less),
            (Some(a), Some(b)) => a.partial_cmp(b),
        }
    }
}

impl<L> IsTop for WithTop<L> {
    fn is_top(&self) -> bool {
        self.0.is_none()
    }
}

impl<L: IsBot> IsBot for WithTop<L> {
    fn is_bot(&self) -> bool {
        self.0.as_ref().is_some_and(IsBot::is_bot)
    }
}

impl<L> LatticeFrom<WithTop<L>> for WithTop<L> {
    fn lattice_from(other: WithTop<L>) -> Self {
        other
    }
}
