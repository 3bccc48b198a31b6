//! Resending to the nodes that have not answered yet: every retransmission in the protocols.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

/// The `targets` with no entry in `answered`, in `targets`' order.
pub(crate) fn silent<'a, V>(
    targets: impl IntoIterator<Item = &'a NodeId>,
    answered: &BTreeMap<NodeId, V>,
) -> Vec<NodeId> {
    targets
        .into_iter()
        .filter(|n| !answered.contains_key(n))
        .copied()
        .collect()
}
