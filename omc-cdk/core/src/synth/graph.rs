//! Graph algorithms for synthesis: strongly connected components (cycles) and a stable
//! topological order. Nodes are indexes `0..n`; edges point from a node to what it depends on.

use std::collections::BTreeSet;

/// The strongly connected components that are cycles (two or more nodes, or a node with an edge
/// to itself), each as one concrete cycle `a -> b -> ... -> a` (the first node repeated at the
/// end). Deterministic: components and cycles follow node order.
pub(crate) fn cycles(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let components = tarjan(adjacency);
    let mut found = Vec::new();
    for component in components {
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let start = *members.iter().next().unwrap_or(&0);
        let self_loop = adjacency[start].contains(&start);
        if members.len() < 2 && !self_loop {
            continue;
        }
        if let Some(cycle) = shortest_cycle(adjacency, &members, start) {
            found.push(cycle);
        }
    }
    found.sort();
    found
}

/// Breadth-first search from `start` back to `start`, staying inside `members`.
fn shortest_cycle(
    adjacency: &[Vec<usize>],
    members: &BTreeSet<usize>,
    start: usize,
) -> Option<Vec<usize>> {
    let n = adjacency.len();
    let mut parent = vec![usize::MAX; n];
    let mut queue = std::collections::VecDeque::new();
    queue.push_back(start);
    let mut seen = vec![false; n];
    seen[start] = true;
    while let Some(node) = queue.pop_front() {
        for &next in &adjacency[node] {
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                // Tree edges follow edge direction, so start -> .. -> node -> start is a cycle.
                let mut cycle = vec![node];
                let mut at = node;
                while at != start {
                    at = parent[at];
                    cycle.push(at);
                }
                cycle.reverse();
                cycle.push(start);
                return Some(cycle);
            }
            if !seen[next] {
                seen[next] = true;
                parent[next] = node;
                queue.push_back(next);
            }
        }
    }
    None
}

/// Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
fn tarjan(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adjacency.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&next) = adjacency[node].get(*edge) {
                *edge += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == index[node] {
                    let mut component = Vec::new();
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component.push(member);
                        if member == node {
                            break;
                        }
                    }
                    component.sort_unstable();
                    components.push(component);
                }
            }
        }
    }
    components
}

/// A topological order where every node comes after the nodes it depends on; among nodes that
/// are ready at the same time, the lower index first. Nodes on cycles are appended in index
/// order (callers report the cycles separately).
pub(crate) fn stable_topological_order(adjacency: &[Vec<usize>]) -> Vec<usize> {
    let n = adjacency.len();
    // remaining[i]: how many dependencies of i are not placed yet.
    let mut remaining: Vec<usize> = adjacency
        .iter()
        .map(|deps| deps.iter().collect::<BTreeSet<_>>().len())
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (node, deps) in adjacency.iter().enumerate() {
        for &dep in deps.iter().collect::<BTreeSet<_>>() {
            dependents[dep].push(node);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    while let Some(node) = ready.pop_first() {
        order.push(node);
        placed[node] = true;
        for &dependent in &dependents[node] {
            remaining[dependent] -= 1;
            if remaining[dependent] == 0 {
                ready.insert(dependent);
            }
        }
    }
    order.extend((0..n).filter(|&i| !placed[i]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_two_node_cycle() {
        let adjacency = vec![vec![1], vec![0], vec![]];
        assert_eq!(cycles(&adjacency), vec![vec![0, 1, 0]]);
    }

    #[test]
    fn finds_self_loops_and_longer_cycles_in_edge_direction() {
        let adjacency = vec![vec![0], vec![2], vec![3], vec![1], vec![]];
        assert_eq!(cycles(&adjacency), vec![vec![0, 0], vec![1, 2, 3, 1]]);
    }

    #[test]
    fn acyclic_graphs_have_no_cycles() {
        let adjacency = vec![vec![1, 2], vec![2], vec![]];
        assert!(cycles(&adjacency).is_empty());
    }

    #[test]
    fn topological_order_is_stable() {
        // 0 depends on 2; 1 depends on nothing; 2 depends on 1.
        let adjacency = vec![vec![2], vec![], vec![1]];
        assert_eq!(stable_topological_order(&adjacency), vec![1, 2, 0]);
        // Independent nodes keep their order.
        assert_eq!(
            stable_topological_order(&[vec![], vec![], vec![]]),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 100_000;
        let adjacency: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![0] })
            .collect();
        let found = cycles(&adjacency);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].len(), n + 1);
    }
}
