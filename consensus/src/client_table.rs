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

/// Per client, which requests were executed, and the outputs of those a retry may still ask
/// about.
///
/// A client numbers its requests 1, 2, 3, … and sends the next only after the previous one
/// was answered, so its requests can be remembered as "everything below `done_below`" plus the
/// few executed above it. The set matters under generalized consensus (BPaxos): commands that
/// do not conflict may execute in a different order on different replicas, so request 2 can
/// execute on a replica before request 1 does, and request 1 must still execute there.
///
/// Part of the replicated state: it is in every snapshot, so a replica restored from one
/// still refuses to re-execute retries of commands the snapshot covers.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientTable<O> {
    clients: BTreeMap<ClientId, Executed<O>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Executed<O> {
    /// Every request with a lower number was executed (and its client has moved on).
    done_below: u64,
    /// Executed requests at or above `done_below`, with outputs; the highest is always kept.
    recent: BTreeMap<u64, O>,
}

impl<O> Default for ClientTable<O> {
    fn default() -> Self {
        ClientTable {
            clients: BTreeMap::new(),
        }
    }
}

impl<O> ClientTable<O> {
    /// Classifies request `id`.
    pub fn check(&self, id: RequestId) -> Dedup<'_, O> {
        match self.clients.get(&id.client) {
            Some(e) if id.seq < e.done_below => Dedup::Stale,
            Some(e) => match e.recent.get(&id.seq) {
                Some(output) => Dedup::Repeat(output),
                None => Dedup::Fresh,
            },
            None => Dedup::Fresh,
        }
    }

    /// Records that `id` executed with `output`.
    pub fn record(&mut self, id: RequestId, output: O) {
        let e = self.clients.entry(id.client).or_insert(Executed {
            done_below: 1,
            recent: BTreeMap::new(),
        });
        e.recent.insert(id.seq, output);
        // Fold the contiguous prefix into `done_below`, keeping the newest output for retries.
        while let Some((&low, _)) = e.recent.first_key_value() {
            let newest = e.recent.last_key_value().map(|(&s, _)| s).unwrap_or(low);
            if low >= newest || low > e.done_below {
                break;
            }
            e.recent.remove(&low);
            e.done_below = low + 1;
        }
    }

    /// Number of clients known.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no client is known.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
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

    #[test]
    fn requests_executed_out_of_order_are_each_executed_once() {
        let mut table = ClientTable::default();
        let id = |seq| RequestId { client: 1, seq };
        table.record(id(2), 'b');
        assert_eq!(table.check(id(1)), Dedup::Fresh, "1 has not run here yet");
        assert_eq!(table.check(id(2)), Dedup::Repeat(&'b'));
        table.record(id(1), 'a');
        assert_eq!(table.check(id(1)), Dedup::Stale);
        assert_eq!(table.check(id(2)), Dedup::Repeat(&'b'));
        table.record(id(3), 'c');
        assert_eq!(table.check(id(2)), Dedup::Stale);
        assert_eq!(table.check(id(3)), Dedup::Repeat(&'c'));
    }
}
