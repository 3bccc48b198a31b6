//! What every protocol's fault scenario sets up the same way: the KV load clients and the
//! seed-drawn crash of the first leader.

use std::time::Duration;

use stratus_sim::{Fault, FaultScript, NodeId, SimRng, Time};

use crate::client::{ClientConfig, KvWorkload, LoadClient};
use crate::command::ClusterId;
use crate::kv::KvStore;

/// `clients` closed-loop KV clients, `ops_per_client` operations each over `keys` keys,
/// sending to `targets`.
pub(crate) fn kv_clients(
    clients: usize,
    ops_per_client: u64,
    keys: u64,
    cluster: ClusterId,
    targets: &[NodeId],
) -> Vec<LoadClient<KvStore>> {
    (0..clients)
        .map(|_| {
            let config = ClientConfig {
                ops_per_session: ops_per_client,
                ..ClientConfig::new(cluster)
            };
            LoadClient::new(config, targets.to_vec(), KvWorkload { keys })
        })
        .collect()
}

/// Crashes `leader` at an instant drawn from the seed within the chaos window (after its
/// first eighth, so the leader has work in flight) and restarts it 5–60 ms later.
pub(crate) fn leader_crash(seed: u64, chaos_until: Time, leader: NodeId) -> FaultScript {
    let mut rng = SimRng::new(seed).fork(0x1ead);
    let until = chaos_until.as_nanos().max(2);
    let at = Time::from_nanos(rng.range_inclusive(until / 8, until));
    let back = at + Duration::from_millis(rng.range_inclusive(5, 60));
    FaultScript::new()
        .at(at, Fault::Crash(leader))
        .at(back, Fault::Restart(leader))
}
