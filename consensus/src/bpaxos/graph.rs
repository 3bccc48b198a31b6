//! Execution planning: strongly connected components of the committed dependency graph
//! (Tarjan's algorithm, iterative), in the order they may run.

use std::collections::{BTreeSet, HashMap};

use super::vertex::VertexId;

/// What can be executed now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Components ready to execute, dependencies first; members in vertex-id order.
    pub components: Vec<Vec<VertexId>>,
    /// Dependencies that are neither committed nor executed: they block everything that
    /// (transitively) depends on them, and replicas recover them if they stay missing.
    pub missing: BTreeSet<VertexId>,
}

/// Plans the execution of `pending` (committed, not executed) vertices. `deps(v)` lists the
/// dependencies of a pending vertex; `done(v)` says whether a vertex was executed already.
///
/// Tarjan's algorithm emits each strongly connected component after every component it can
/// reach, i.e. dependencies first: executing components in emission order respects every
/// dependency edge, and edges inside a component (a cycle of conflicting commands proposed
/// concurrently) are broken deterministically by vertex id. A component is held back when any
/// member reaches a missing vertex.
pub fn plan<'a>(
    pending: &BTreeSet<VertexId>,
    deps: impl Fn(VertexId) -> &'a [VertexId],
    done: impl Fn(VertexId) -> bool,
) -> Plan {
    struct Info {
        index: usize,
        low: usize,
        on_stack: bool,
        blocked: bool,
        component: Option<usize>,
    }
    let mut info: HashMap<VertexId, Info> = HashMap::new();
    let mut stack: Vec<VertexId> = Vec::new();
    let mut components: Vec<(Vec<VertexId>, bool)> = Vec::new();
    let mut missing = BTreeSet::new();
    let mut next_index = 0;

    for &root in pending {
        if info.contains_key(&root) {
            continue;
        }
        let mut calls: Vec<(VertexId, usize)> = Vec::new();
        let mut enter = |v: VertexId,
                         info: &mut HashMap<VertexId, Info>,
                         stack: &mut Vec<VertexId>,
                         calls: &mut Vec<(VertexId, usize)>| {
            info.insert(
                v,
                Info {
                    index: next_index,
                    low: next_index,
                    on_stack: true,
                    blocked: false,
                    component: None,
                },
            );
            next_index += 1;
            stack.push(v);
            calls.push((v, 0));
        };
        enter(root, &mut info, &mut stack, &mut calls);
        while let Some(&mut (v, ref mut i)) = calls.last_mut() {
            let succ = deps(v);
            if *i < succ.len() {
                let w = succ[*i];
                *i += 1;
                if done(w) {
                    continue;
                }
                if !pending.contains(&w) {
                    missing.insert(w);
                    info.get_mut(&v).expect("entered").blocked = true;
                    continue;
                }
                match info.get(&w) {
                    None => enter(w, &mut info, &mut stack, &mut calls),
                    Some(wi) if wi.on_stack => {
                        let idx = wi.index;
                        let vi = info.get_mut(&v).expect("entered");
                        vi.low = vi.low.min(idx);
                    }
                    Some(wi) => {
                        let c = wi.component.expect("finished vertices have a component");
                        if components[c].1 {
                            info.get_mut(&v).expect("entered").blocked = true;
                        }
                    }
                }
                continue;
            }
            calls.pop();
            let (v_low, v_index) = {
                let vi = &info[&v];
                (vi.low, vi.index)
            };
            if v_low == v_index {
                let mut members = Vec::new();
                let mut blocked = false;
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    let wi = info.get_mut(&w).expect("entered");
                    wi.on_stack = false;
                    wi.component = Some(components.len());
                    blocked |= wi.blocked;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                members.sort_unstable();
                components.push((members, blocked));
            }
            if let Some(&(u, _)) = calls.last() {
                let v_info = &info[&v];
                let v_comp_blocked = v_info.component.is_some_and(|c| components[c].1);
                let ui = info.get_mut(&u).expect("entered");
                ui.low = ui.low.min(v_low);
                if v_comp_blocked {
                    ui.blocked = true;
                }
            }
        }
    }
    Plan {
        components: components
            .into_iter()
            .filter(|(_, blocked)| !blocked)
            .map(|(members, _)| members)
            .collect(),
        missing,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn v(seq: u64) -> VertexId {
        VertexId { leader: 0, seq }
    }

    fn run(edges: &[(u64, &[u64])], done: &[u64]) -> Plan {
        let graph: BTreeMap<VertexId, Vec<VertexId>> = edges
            .iter()
            .map(|(a, ds)| (v(*a), ds.iter().map(|&d| v(d)).collect()))
            .collect();
        let pending = graph.keys().copied().collect();
        let done: BTreeSet<VertexId> = done.iter().map(|&d| v(d)).collect();
        plan(&pending, |x| graph[&x].as_slice(), |x| done.contains(&x))
    }

    #[test]
    fn dependencies_run_first_and_cycles_run_together_by_id() {
        // 3 → 2 → 1, and 4 ⇄ 5 with 5 → 3.
        let p = run(
            &[(1, &[]), (2, &[1]), (3, &[2]), (4, &[5]), (5, &[4, 3])],
            &[],
        );
        assert_eq!(
            p.components,
            vec![vec![v(1)], vec![v(2)], vec![v(3)], vec![v(4), v(5)]]
        );
        assert!(p.missing.is_empty());
    }

    #[test]
    fn a_missing_dependency_blocks_everything_above_it() {
        // 2 → 9 (missing); 3 → 2; 4 ⇄ 3 cycle; 5 independent; 6 → 0 (executed).
        let p = run(
            &[(2, &[9]), (3, &[2, 4]), (4, &[3]), (5, &[]), (6, &[0])],
            &[0],
        );
        assert_eq!(p.components, vec![vec![v(5)], vec![v(6)]]);
        assert_eq!(p.missing, BTreeSet::from([v(9)]));
    }

    #[test]
    fn long_chains_do_not_overflow_the_stack() {
        let n = 50_000u64;
        let graph: BTreeMap<VertexId, Vec<VertexId>> = (0..n)
            .map(|i| (v(i), if i + 1 < n { vec![v(i + 1)] } else { vec![] }))
            .collect();
        let pending = graph.keys().copied().collect();
        let p = plan(&pending, |x| graph[&x].as_slice(), |_| false);
        assert_eq!(p.components.len() as u64, n);
        assert_eq!(p.components[0], vec![v(n - 1)]);
    }
}
