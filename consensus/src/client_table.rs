//! At-most-once execution: each replica remembers every client's last request and output.

use std::collections::BTreeMap;

use crate::command::{ClientId, RequestId};

/// What a replica should do with a command it is about to execute.
#[derive(Clone, Debug, PartialEq)]
pub enum Dedup<'a, O> {
    /// Never executed: execute it.
    Fresh,
    /// The client's latest request, already executed: answer with the recorded output.
    Repeat(&'a O),
    /// Older than the client's latest request: the client has moved on; ignore it.
    Stale,
}

/// Per client, the highest request executed and its output.
///
/// Part of the replicated state: it is in every snapshot, so a replica restored from one
/// still refuses to re-execute retries of commands the snapshot covers.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientTable<O> {
    last: BTreeMap<ClientId, (u64, O)>,
}

impl<O> Default for ClientTable<O> {
    fn default() -> Self {
        ClientTable {
            last: BTreeMap::new(),
        }
    }
}

impl<O> ClientTable<O> {
    /// Classifies request `id`.
    pub fn check(&self, id: RequestId) -> Dedup<'_, O> {
        match self.last.get(&id.client) {
            Some((seq, _)) if id.seq < *seq => Dedup::Stale,
            Some((seq, output)) if id.seq == *seq => Dedup::Repeat(output),
            _ => Dedup::Fresh,
        }
    }

    /// Records that `id` executed with `output`.
    pub fn record(&mut self, id: RequestId, output: O) {
        self.last.insert(id.client, (id.seq, output));
    }

    /// Number of clients known.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no client is known.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_answered_from_the_table() {
        let mut table = ClientTable::default();
        let id = |seq| RequestId { client: 7, seq };
        assert_eq!(table.check(id(1)), Dedup::Fresh);
        table.record(id(1), "one");
        assert_eq!(table.check(id(1)), Dedup::Repeat(&"one"));
        assert_eq!(table.check(id(2)), Dedup::Fresh);
        table.record(id(2), "two");
        assert_eq!(table.check(id(1)), Dedup::Stale);
        assert_eq!(
            table.check(RequestId { client: 8, seq: 1 }),
            Dedup::Fresh,
            "clients are independent"
        );
    }
}
