//! The time-ordered list of call and return entries the search walks.
//!
//! A doubly linked list stored in a `Vec` (indices instead of pointers). The search "lifts" an
//! operation out of the list when it linearizes it and puts it back when it backtracks; since
//! backtracking is strictly last-in first-out, an unlinked node keeps its own `prev`/`next`
//! and can be relinked in O(1) without searching (the dancing-links trick).

/// Marks "no node" in a `next` link.
const NIL: usize = usize::MAX;

/// Index of the sentinel head node, which precedes every real entry and is never lifted.
const HEAD: usize = 0;

/// What a node of the list stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The call of operation `op` (an index into the checked operations).
    Call {
        /// Index of the operation.
        op: usize,
    },
    /// The return of operation `op`.
    Return {
        /// Index of the operation.
        op: usize,
    },
}

#[derive(Clone, Debug)]
struct Node {
    prev: usize,
    next: usize,
    /// `None` only for the head sentinel.
    entry: Option<Entry>,
    /// For a call node: the node of the matching return, if the operation completed.
    ret_node: Option<usize>,
}

/// Call and return entries ordered by timestamp, supporting lift/unlift of whole operations.
#[derive(Clone, Debug)]
pub(crate) struct EntryList {
    nodes: Vec<Node>,
}

impl EntryList {
    /// Builds the list from each operation's `(call, ret)` stamps.
    ///
    /// On equal stamps calls come before returns: equal stamps mean "concurrent", and a call
    /// placed before a return is exactly what lets the search linearize it first.
    pub(crate) fn new(stamps: impl IntoIterator<Item = (u64, Option<u64>)>) -> Self {
        // (time, 0 = call / 1 = return, op): sorting the tuple gives the order described above,
        // with ties between calls (or between returns) broken by operation index, so the list
        // and hence the whole search is deterministic.
        let mut sorted: Vec<(u64, u8, usize)> = Vec::new();
        let mut ops = 0;
        for (op, (call, ret)) in stamps.into_iter().enumerate() {
            sorted.push((call, 0, op));
            if let Some(ret) = ret {
                sorted.push((ret, 1, op));
            }
            ops += 1;
        }
        sorted.sort_unstable();

        let mut nodes = Vec::with_capacity(sorted.len() + 1);
        nodes.push(Node {
            prev: NIL,
            next: if sorted.is_empty() { NIL } else { 1 },
            entry: None,
            ret_node: None,
        });
        let mut call_node = vec![NIL; ops];
        let mut ret_node = vec![None; ops];
        let last = sorted.len();
        for (i, &(_, kind, op)) in sorted.iter().enumerate() {
            let index = i + 1;
            let entry = if kind == 0 {
                call_node[op] = index;
                Entry::Call { op }
            } else {
                ret_node[op] = Some(index);
                Entry::Return { op }
            };
            nodes.push(Node {
                prev: i,
                next: if index == last { NIL } else { index + 1 },
                entry: Some(entry),
                ret_node: None,
            });
        }
        for (op, &node) in call_node.iter().enumerate() {
            nodes[node].ret_node = ret_node[op];
        }
        EntryList { nodes }
    }

    /// The first entry still in the list.
    pub(crate) fn first(&self) -> Option<usize> {
        self.next(HEAD)
    }

    /// The entry after `node`.
    pub(crate) fn next(&self, node: usize) -> Option<usize> {
        let next = self.nodes[node].next;
        (next != NIL).then_some(next)
    }

    /// What `node` stands for (`None` for the head sentinel, which `first`/`next` never yield).
    pub(crate) fn entry(&self, node: usize) -> Option<Entry> {
        self.nodes[node].entry
    }

    /// The node holding operation `op`'s call.
    #[cfg(test)]
    pub(crate) fn call_node(&self, op: usize) -> usize {
        self.nodes
            .iter()
            .position(|n| n.entry == Some(Entry::Call { op }))
            .unwrap_or(NIL)
    }

    /// Removes the call at `call` and its return (if any) from the list.
    pub(crate) fn lift(&mut self, call: usize) {
        self.unlink(call);
        if let Some(ret) = self.nodes[call].ret_node {
            self.unlink(ret);
        }
    }

    /// Undoes the most recent [`EntryList::lift`] of `call`, which must be the latest one not
    /// yet undone.
    pub(crate) fn unlift(&mut self, call: usize) {
        // Relink in reverse order of unlinking, so each node's stored neighbours are current.
        if let Some(ret) = self.nodes[call].ret_node {
            self.relink(ret);
        }
        self.relink(call);
    }

    fn unlink(&mut self, node: usize) {
        let Node { prev, next, .. } = self.nodes[node];
        self.nodes[prev].next = next;
        if next != NIL {
            self.nodes[next].prev = prev;
        }
    }

    fn relink(&mut self, node: usize) {
        let Node { prev, next, .. } = self.nodes[node];
        self.nodes[prev].next = node;
        if next != NIL {
            self.nodes[next].prev = node;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(list: &EntryList) -> Vec<Entry> {
        let mut out = Vec::new();
        let mut cursor = list.first();
        while let Some(node) = cursor {
            out.extend(list.entry(node));
            cursor = list.next(node);
        }
        out
    }

    #[test]
    fn calls_precede_returns_on_equal_stamps() {
        // op0 [0, 2], op1 [2, 3]: equal stamps 2 mean concurrent.
        let list = EntryList::new([(0, Some(2)), (2, Some(3))]);
        assert_eq!(
            walk(&list),
            vec![
                Entry::Call { op: 0 },
                Entry::Call { op: 1 },
                Entry::Return { op: 0 },
                Entry::Return { op: 1 },
            ]
        );
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let list0 = EntryList::new([(0, Some(5)), (1, None), (2, Some(3))]);
        let before = walk(&list0);
        let mut list = list0.clone();
        let a = list.call_node(2);
        let b = list.call_node(0);
        let c = list.call_node(1);
        list.lift(a);
        list.lift(b);
        assert_eq!(walk(&list), vec![Entry::Call { op: 1 }]);
        list.lift(c);
        assert_eq!(walk(&list), vec![]);
        list.unlift(c);
        list.unlift(b);
        list.unlift(a);
        assert_eq!(walk(&list), before);
    }
}
