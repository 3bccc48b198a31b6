#![doc = include_str!("../README.md")]

mod bounded;
mod counter;
mod dom_pair;
mod lww;
mod map_union;
mod max;
mod merge;
mod min;
mod multi_key_causal;
mod pair;
mod product;
mod set_union;
mod single_key_causal;
mod vector_clock;
mod with_bot;

pub mod kvs;
pub mod laws;
pub mod ring;
#[cfg(feature = "proptest")]
pub mod strategies;

pub use bounded::Bounded;
pub use counter::{GCounter, PnCounter};
pub use dom_pair::DomPair;
pub use lww::Lww;
pub use map_union::{MapRepr, MapUnion, MapUnionBTreeMap, MapUnionHashMap};
pub use max::Max;
pub use merge::{IsBot, IsTop, Lattice, LatticeFrom, Merge, product_order};
pub use min::Min;
pub use multi_key_causal::{CausalVersion, MultiKeyCausal};
pub use pair::Pair;
pub use set_union::{OrderedSet, SetRepr, SetUnion, SetUnionBTreeSet, SetUnionHashSet};
pub use single_key_causal::SingleKeyCausal;
pub use vector_clock::VectorClock;
pub use with_bot::{WithBot, WithTop};
