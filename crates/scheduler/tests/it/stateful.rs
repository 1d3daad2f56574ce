//! Stateful property test: random sequences of join, update, leave, liveness changes, held
//! work set from outside, allocations (fast path and naive scan) and releases, checked after
//! every step against a model of the allocations outstanding and the held work.

use std::collections::HashMap;

use proptest::prelude::*;
use verity_scheduler::{AllocError, AllocationId, NodeError, NodeView, OperatorId, TaskNeeds};

use crate::common::{check_plan, op, oracle, scheduler};
use crate::props::{node_view, task_needs};

#[derive(Debug, Clone)]
enum Step {
    Join(u32, NodeView),
    Update(u32, NodeView),
    Leave(u32),
    SetLive(u32, bool),
    /// Work held outside the scheduler (the coordinator's seats on chain).
    SetHeld(u32, u32),
    Allocate(TaskNeeds),
    AllocateNaive(TaskNeeds),
    /// Releases the outstanding allocation at this position (modulo their number).
    Release(usize),
    /// Releases an id that was never handed out.
    ReleaseUnknown,
}

const OPERATORS: u32 = 24;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..OPERATORS, node_view()).prop_map(|(n, v)| Step::Join(n, v)),
        2 => (0..OPERATORS, node_view()).prop_map(|(n, v)| Step::Update(n, v)),
        1 => (0..OPERATORS).prop_map(Step::Leave),
        1 => (0..OPERATORS, any::<bool>()).prop_map(|(n, l)| Step::SetLive(n, l)),
        2 => (0..OPERATORS, 0u32..5).prop_map(|(n, h)| Step::SetHeld(n, h)),
        5 => task_needs().prop_map(Step::Allocate),
        2 => task_needs().prop_map(Step::AllocateNaive),
        4 => any::<usize>().prop_map(Step::Release),
        1 => Just(Step::ReleaseUnknown),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn load_always_equals_allocations_outstanding_and_never_exceeds_capacity(
        steps in prop::collection::vec(step(), 1..150),
    ) {
        let mut s = scheduler();
        // The model: allocation -> its primaries.
        let mut outstanding: HashMap<AllocationId, Vec<OperatorId>> = HashMap::new();
        let mut order: Vec<AllocationId> = Vec::new();
        // The model of held work: the last value set, forgotten when the record is dropped.
        let mut external: HashMap<OperatorId, u32> = HashMap::new();
        for step in steps {
            match step {
                Step::Join(n, view) => {
                    let was_present = s.node(op(n)).is_some_and(|x| !x.departed);
                    let result = s.join(op(n), view);
                    if was_present {
                        prop_assert_eq!(result, Err(NodeError::AlreadyJoined(op(n))));
                    } else {
                        prop_assert_eq!(result, Ok(()));
                    }
                }
                Step::Update(n, view) => {
                    let present = s.node(op(n)).is_some_and(|x| !x.departed);
                    prop_assert_eq!(s.update(op(n), view).is_ok(), present);
                }
                Step::Leave(n) => {
                    let present = s.node(op(n)).is_some_and(|x| !x.departed);
                    prop_assert_eq!(s.leave(op(n)).is_ok(), present);
                }
                Step::SetLive(n, live) => {
                    let present = s.node(op(n)).is_some_and(|x| !x.departed);
                    prop_assert_eq!(s.set_live(op(n), live).is_ok(), present);
                }
                Step::SetHeld(n, held) => {
                    let present = s.node(op(n)).is_some_and(|x| !x.departed);
                    prop_assert_eq!(s.set_held(op(n), held).is_ok(), present);
                    if present {
                        external.insert(op(n), held);
                    }
                }
                Step::Allocate(ref needs) | Step::AllocateNaive(ref needs) => {
                    let naive = matches!(step, Step::AllocateNaive(_));
                    let expected = oracle(&s, needs);
                    let plan = if naive { s.plan_naive(needs) } else { s.plan(needs) };
                    if let Ok(plan) = &plan
                        && let Err(why) = check_plan(&s, needs, plan)
                    {
                        return Err(TestCaseError::fail(why));
                    }
                    let result = if naive { s.allocate_naive(needs) } else { s.allocate(needs) };
                    match result {
                        Ok(allocation) => {
                            prop_assert_eq!(Some(&allocation.assignments), expected.as_ref());
                            for a in &allocation.assignments {
                                let n = s.node(a.primary).unwrap();
                                prop_assert!(n.load + n.held <= n.view.capacity, "{} over capacity", a.primary);
                            }
                            let primaries = allocation.assignments.iter().map(|a| a.primary).collect();
                            outstanding.insert(allocation.id, primaries);
                            order.push(allocation.id);
                        }
                        Err(AllocError::NoFeasibleSet { .. }) => prop_assert!(expected.is_none()),
                        Err(other) => return Err(TestCaseError::fail(format!("unexpected {other}"))),
                    }
                }
                Step::Release(i) => {
                    if !order.is_empty() {
                        let id = order.swap_remove(i % order.len());
                        outstanding.remove(&id);
                        prop_assert_eq!(s.release(id), Ok(()));
                        prop_assert!(s.release(id).is_err(), "double release accepted");
                    }
                }
                Step::ReleaseUnknown => {
                    prop_assert!(s.release(AllocationId(u64::MAX)).is_err());
                }
            }

            // Invariants after every step.
            let mut held: HashMap<OperatorId, u32> = HashMap::new();
            for primaries in outstanding.values() {
                for id in primaries {
                    *held.entry(*id).or_default() += 1;
                }
            }
            external.retain(|id, _| s.node(*id).is_some());
            let mut eligible = 0;
            for n in s.nodes() {
                prop_assert_eq!(n.held, external.get(&n.id).copied().unwrap_or(0), "held of {}", n.id);
                prop_assert_eq!(n.load, held.get(&n.id).copied().unwrap_or(0), "load of {}", n.id);
                prop_assert!(!n.departed || n.load > 0, "departed {} kept without load", n.id);
                if !n.departed && n.view.live && n.load + n.held < n.view.capacity {
                    eligible += 1;
                }
            }
            for id in held.keys() {
                prop_assert!(s.node(*id).is_some(), "{} holds work but vanished", id);
            }
            prop_assert_eq!(s.eligible(), eligible);
            prop_assert_eq!(s.outstanding(), outstanding.len());
        }
    }
}
