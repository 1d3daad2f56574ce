// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Base} from "./Base.sol";
import {TaskMarket} from "../src/TaskMarket.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";
import {NodeRegistry} from "../src/NodeRegistry.sol";

/// @notice Unit tests of the market's entry points. Every money-moving test asserts the exact
///         change of every actor's balance (market accounts, treasury accrual, escrow, stake).
contract TaskMarketTest is Base {
    bytes32 internal constant TRUTH = keccak256("the right answer");
    bytes32 internal constant WRONG = keccak256("a wrong answer");

    function setUp() public {
        _deploy();
    }

    // ---------------------------------------------------------------- helpers

    struct Books {
        uint256 escrowed;
        uint256 bonded;
        uint256 treasury; // treasury's balance including accrual
        uint256 coordinator;
        uint256 client;
        uint256 challenger;
        uint256 courtTokens;
    }

    function _books() internal view returns (Books memory b) {
        b.escrowed = market.escrowed();
        b.bonded = market.bonded();
        b.treasury = market.balanceOf(treasury);
        b.coordinator = market.balanceOf(coordinator);
        b.client = market.balanceOf(client);
        b.challenger = market.balanceOf(challenger);
        b.courtTokens = token.balanceOf(address(court));
    }

    function _fees(uint256 bounty) internal pure returns (uint256 pf, uint256 sf, uint256 rest) {
        pf = bounty * PROTOCOL_BPS / 10_000;
        sf = bounty * SCHEDULER_BPS / 10_000;
        rest = bounty - pf - sf;
    }

    function _commitAll(uint256 id, TaskMarket.Task memory t, bytes32[] memory digests)
        internal
        returns (uint256 commitBlock)
    {
        commitBlock = vm.getBlockNumber();
        for (uint256 i = 0; i < t.operators.length; ++i) {
            address op = t.operators[i];
            bytes32 c = market.commitmentOf(id, op, digests[i], _salt(id, op));
            vm.prank(op);
            market.commit(id, t, c);
        }
    }

    function _revealAll(uint256 id, TaskMarket.Task memory t, bytes32[] memory digests, uint256 commitBlock) internal {
        for (uint256 i = 0; i < t.operators.length; ++i) {
            address op = t.operators[i];
            vm.prank(op);
            market.reveal(id, t, digests[i], _salt(id, op), commitBlock);
        }
    }

    function _submit(uint256 id, TaskMarket.Task memory t, bytes32 digest) internal {
        vm.prank(t.operators[0]);
        market.submitResult(id, t, digest);
        t.submittedAt = uint32(vm.getBlockTimestamp());
        t.result = digest;
    }

    /// @dev Draws the committee of case `id` (as many rounds as it takes) and returns it.
    function _drawCommittee(uint256 id) internal returns (address[] memory committee) {
        for (uint256 i = 0; i < 16; ++i) {
            _next(1);
            DisputeCourt.Case memory c = court.caseOf(id);
            if (c.phase != DisputeCourt.Phase.Drawing) break;
            if (vm.getBlockNumber() > c.seedBlock) court.draw(id);
        }
        committee = court.caseOf(id).committee;
    }

    function _vote(uint256 id, address[] memory committee, bytes32 digest) internal {
        for (uint256 i = 0; i < committee.length; ++i) {
            bytes32 c = court.ballotOf(id, committee[i], digest, _salt(id, committee[i]));
            vm.prank(committee[i]);
            court.commit(id, c);
        }
        _next(1);
        for (uint256 i = 0; i < committee.length; ++i) {
            vm.prank(committee[i]);
            court.reveal(id, digest, _salt(id, committee[i]));
        }
        court.tally(id);
    }

    // ---------------------------------------------------------------- createTask

    function test_createTask_escrowsBountyFromTransfer() public {
        uint256 tokensBefore = token.balanceOf(client);
        (uint256 id,) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        assertEq(id, 1);
        assertEq(market.escrowed(), 10e18);
        assertEq(token.balanceOf(client), tokensBefore - 10e18);
        assertEq(token.balanceOf(address(market)), 10e18);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Open));
    }

    function test_createTask_paysFromDepositedBalance() public {
        vm.prank(client);
        market.deposit(15e18);
        (uint256 id,) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        assertEq(market.balanceOf(client), 5e18);
        assertEq(market.escrowed(), 10e18);
        assertEq(token.balanceOf(address(market)), 15e18);
        assertEq(id, market.taskCount());
    }

    function test_createTask_refusesReplicationBelowThree() public {
        TaskMarket.TaskRequest memory r = _replicatedRequest(3, 10e18, 20e18);
        r.replication = 2;
        r.quorum = 2;
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.InvalidReplication.selector, uint8(2), uint8(2)));
        market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
    }

    function test_createTask_refusesCollateralBelowFloor() public {
        uint256 floor = market.collateralFloor(10e18, 2_000);
        // bounty * (1 - p) / p + bounty * 10 % = 40 + 1 tokens at p = 20 %.
        assertEq(floor, 41e18);
        TaskMarket.TaskRequest memory r = _optimisticRequest(10e18, uint96(floor - 1), 2_000, 100);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.CollateralTooLow.selector, floor - 1, floor));
        market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
        r.collateral = uint96(floor);
        vm.prank(client);
        market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
    }

    function test_createTask_refusesAuditRateOnReplicated() public {
        TaskMarket.TaskRequest memory r = _replicatedRequest(3, 10e18, 20e18);
        r.auditBps = 100;
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.InvalidAuditRate.selector, uint256(100)));
        market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
    }

    function test_createTask_refusesChangedTerms() public {
        vm.prank(owner);
        market.setFees(200, 50);
        TaskMarket.TaskRequest memory r = _replicatedRequest(3, 10e18, 20e18);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.TermsChanged.selector, uint256(200), uint256(50), address(0)));
        market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
    }

    // ---------------------------------------------------------------- cancel, assign, timeouts

    function test_cancel_refundsClient() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        vm.prank(client2);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.NotClient.selector, client2));
        market.cancel(id, t);
        vm.prank(client);
        market.cancel(id, t);
        assertEq(market.balanceOf(client), 10e18);
        assertEq(market.escrowed(), 0);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Refunded));
    }

    function test_assign_locksCollateralOfEachOperator() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        _assign(id, t, _ops(0, 3));
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(_locked(operators[i]), 20e18);
        }
        assertEq(_locked(operators[3]), 0);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Assigned));
    }

    function test_assign_refusesNonCoordinatorAndDuplicates() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        address[] memory ops = _ops(0, 3);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.NotCoordinator.selector, client));
        market.assign(id, t, ops);
        ops[2] = ops[0];
        vm.prank(coordinator);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.DuplicateOperator.selector, ops[0]));
        market.assign(id, t, ops);
    }

    function test_assignBatch_skipsBadEntryAndAssignsTheRest() public {
        (uint256 a, TaskMarket.Task memory ta) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        (uint256 b, TaskMarket.Task memory tb) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        uint256[] memory ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
        TaskMarket.Task[] memory ts = new TaskMarket.Task[](2);
        ts[0] = ta;
        ts[1] = tb;
        ts[1].client = client2; // does not match task b's slot
        address[][] memory ops = new address[][](2);
        ops[0] = _ops(0, 1);
        ops[1] = _ops(1, 1);
        vm.prank(coordinator);
        market.assignBatch(ids, ts, ops);
        assertEq(uint8(market.statusOf(a)), uint8(TaskMarket.Status.Assigned));
        assertEq(uint8(market.statusOf(b)), uint8(TaskMarket.Status.Open));
        assertEq(_locked(operators[0]), 20e18);
        assertEq(_locked(operators[1]), 0);
    }

    function test_claimTimeout_unassignedRefunds() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        vm.expectRevert();
        market.claimTimeout(id, t);
        vm.warp(t.request.assignDeadline + 1);
        market.claimTimeout(id, t);
        assertEq(market.balanceOf(client), 10e18);
        assertEq(market.escrowed(), 0);
    }

    function test_claimTimeout_slashesSilentOptimisticOperator() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        Books memory before = _books();
        uint256 stakeBefore = registry.getOperator(operators[0]).stake;
        vm.warp(t.request.commitDeadline + 1);
        market.claimTimeout(id, t);
        Books memory after_ = _books();
        assertEq(registry.getOperator(operators[0]).stake, stakeBefore - 20e18);
        assertEq(_locked(operators[0]), 0);
        assertEq(after_.treasury, before.treasury + 20e18);
        assertEq(after_.client, before.client + 10e18);
        assertEq(after_.escrowed, before.escrowed - 10e18);
        assertEq(after_.coordinator, before.coordinator);
        assertFalse(registry.isEligible(operators[0])); // jailed
    }

    // ---------------------------------------------------------------- replicated

    function _replicatedPaid(bytes32 third) internal returns (uint256 id, TaskMarket.Task memory t) {
        (id, t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        _assign(id, t, _ops(0, 3));
        bytes32[] memory digests = new bytes32[](3);
        digests[0] = TRUTH;
        digests[1] = TRUTH;
        digests[2] = third;
        uint256 cb = _commitAll(id, t, digests);
        _next(1);
        _revealAll(id, t, digests, cb);
        market.finalize(id, t, digests);
    }

    function test_replicated_unanimousPaysTheFeeSplitExactly() public {
        Books memory before = _books();
        (uint256 id,) = _replicatedPaid(TRUTH);
        Books memory after_ = _books();
        (uint256 pf, uint256 sf, uint256 rest) = _fees(10e18);
        uint256 each = rest / 3;
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(market.balanceOf(operators[i]), each);
            assertEq(_locked(operators[i]), 0);
            assertEq(registry.getOperator(operators[i]).stake, STAKE);
        }
        assertEq(after_.coordinator, before.coordinator + sf);
        assertEq(after_.treasury, before.treasury + pf + (rest - 3 * each));
        assertEq(after_.escrowed, 0);
        assertEq(after_.client, before.client);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Finalized));
    }

    function test_replicated_dissenterIsSlashedMajorityPaid() public {
        Books memory before = _books();
        _replicatedPaid(WRONG);
        Books memory after_ = _books();
        (uint256 pf, uint256 sf, uint256 rest) = _fees(10e18);
        uint256 each = rest / 2;
        assertEq(market.balanceOf(operators[0]), each);
        assertEq(market.balanceOf(operators[1]), each);
        assertEq(market.balanceOf(operators[2]), 0);
        assertEq(registry.getOperator(operators[2]).stake, STAKE - 20e18);
        assertEq(_locked(operators[2]), 0);
        assertEq(after_.coordinator, before.coordinator + sf);
        assertEq(after_.treasury, before.treasury + pf + (rest - 2 * each) + 20e18);
    }

    function test_replicated_revealBeforeAllCommittedReverts() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        _assign(id, t, _ops(0, 3));
        uint256 cb = vm.getBlockNumber();
        bytes32 c = market.commitmentOf(id, operators[0], TRUTH, _salt(id, operators[0]));
        vm.prank(operators[0]);
        market.commit(id, t, c);
        _next(1);
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.CommitPhaseOpen.selector, id));
        market.reveal(id, t, TRUTH, _salt(id, operators[0]), cb);
    }

    function test_replicated_silentSeatSlashedAfterRevealDeadline() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        _assign(id, t, _ops(0, 3));
        uint256 cb = vm.getBlockNumber();
        for (uint256 i = 0; i < 2; ++i) {
            bytes32 c = market.commitmentOf(id, operators[i], TRUTH, _salt(id, operators[i]));
            vm.prank(operators[i]);
            market.commit(id, t, c);
        }
        vm.warp(t.request.commitDeadline + 1);
        vm.roll(vm.getBlockNumber() + 1);
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(operators[i]);
            market.reveal(id, t, TRUTH, _salt(id, operators[i]), cb);
        }
        bytes32[] memory revealed = new bytes32[](3);
        revealed[0] = TRUTH;
        revealed[1] = TRUTH;
        vm.expectRevert();
        market.finalize(id, t, revealed); // the silent seat could still reveal? no: it never committed
        vm.warp(t.request.revealDeadline + 1);
        uint256 before = market.balanceOf(treasury);
        market.finalize(id, t, revealed);
        assertEq(registry.getOperator(operators[2]).stake, STAKE - 20e18);
        (uint256 pf,, uint256 rest) = _fees(10e18);
        assertEq(market.balanceOf(treasury), before + pf + (rest - 2 * (rest / 2)) + 20e18);
    }

    function test_decline_replicatedReleasesLessFee() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_replicatedRequest(3, 10e18, 20e18), client);
        _assign(id, t, _ops(0, 3));
        vm.prank(operators[1]);
        market.decline(id, t);
        uint256 fee = 20e18 * 200 / 10_000;
        assertEq(registry.getOperator(operators[1]).stake, STAKE - fee);
        assertEq(_locked(operators[1]), 0);
        assertEq(market.balanceOf(treasury), fee);
        assertEq(market.seatWord(id, 1), 1);
        // The coordinator fills the seat again.
        vm.prank(coordinator);
        market.reassign(id, t, 1, operators[3]);
        assertEq(_locked(operators[3]), 20e18);
    }

    // ---------------------------------------------------------------- optimistic

    function test_optimistic_unauditedPaysAfterWindow() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, TRUTH);
        bytes32[] memory none = new bytes32[](0);
        vm.expectRevert();
        market.finalize(id, t, none);
        Books memory before = _books();
        _next(101);
        market.finalize(id, t, none);
        Books memory after_ = _books();
        (uint256 pf, uint256 sf, uint256 rest) = _fees(10e18);
        assertEq(market.balanceOf(operators[0]), rest);
        assertEq(_locked(operators[0]), 0);
        assertEq(after_.coordinator, before.coordinator + sf);
        assertEq(after_.treasury, before.treasury + pf);
        assertEq(after_.escrowed, before.escrowed - 10e18);
        (uint256 released, uint256 paid) = market.collateralOf(operators[0]);
        assertEq(released, 20e18);
        assertEq(paid, 1);
    }

    function test_decline_optimisticRefundsClient() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        vm.prank(operators[0]);
        market.decline(id, t);
        uint256 fee = 20e18 * 200 / 10_000;
        assertEq(market.balanceOf(client), 10e18);
        assertEq(market.balanceOf(treasury), fee);
        assertEq(registry.getOperator(operators[0]).stake, STAKE - fee);
        assertEq(token.balanceOf(address(market)), market.escrowed() + market.balanceOf(client) + market.balanceOf(treasury));
    }

    function test_reassign_movesCollateral() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        vm.prank(coordinator);
        market.reassign(id, t, 0, operators[1]);
        t.operators[0] = operators[1];
        assertEq(_locked(operators[0]), 0);
        assertEq(_locked(operators[1]), 20e18);
        assertEq(registry.getOperator(operators[0]).stake, STAKE);
        _submit(id, t, TRUTH);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Submitted));
    }

    function test_challenge_overturnedSlashesAndRewardsChallenger() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 30e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, WRONG);
        uint256 challengerTokens = token.balanceOf(challenger);
        vm.prank(challenger);
        market.challenge(id, t);
        assertEq(market.bonded(), 30e18);
        assertEq(token.balanceOf(challenger), challengerTokens - 30e18);
        address[] memory committee = _drawCommittee(id);
        assertEq(committee.length, 3);
        _vote(id, committee, TRUTH);
        Books memory before = _books();
        market.resolveDispute(id, t);
        Books memory after_ = _books();
        uint256 slashShare = 30e18 * 1_000 / 10_000;
        uint256 reward = 30e18 * 2_000 / 10_000;
        assertEq(after_.bonded, 0);
        assertEq(after_.challenger, before.challenger + 30e18 + reward);
        assertEq(after_.client, before.client + 10e18);
        assertEq(after_.treasury, before.treasury + 30e18 - reward - slashShare);
        assertEq(after_.courtTokens, before.courtTokens + slashShare);
        assertEq(registry.getOperator(operators[0]).stake, STAKE - 30e18);
        // The committee, all on the verdict's side, splits the slash share.
        for (uint256 i = 0; i < committee.length; ++i) {
            assertEq(court.balanceOf(committee[i]), slashShare / 3);
            assertEq(_locked(committee[i]), 0);
        }
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Refunded));
    }

    function test_challenge_upheldPaysOperatorTheBondLessCommittee() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 30e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, TRUTH);
        vm.prank(challenger);
        market.challenge(id, t);
        address[] memory committee = _drawCommittee(id);
        _vote(id, committee, TRUTH);
        Books memory before = _books();
        market.resolveDispute(id, t);
        Books memory after_ = _books();
        uint256 slashShare = 30e18 * 1_000 / 10_000;
        (uint256 pf, uint256 sf, uint256 rest) = _fees(10e18);
        assertEq(market.balanceOf(operators[0]), rest + 30e18 - slashShare);
        assertEq(after_.challenger, before.challenger);
        assertEq(after_.coordinator, before.coordinator + sf);
        assertEq(after_.treasury, before.treasury + pf);
        assertEq(after_.bonded, 0);
        assertEq(registry.getOperator(operators[0]).stake, STAKE);
        assertEq(_locked(operators[0]), 0);
    }

    function test_audit_fullRateAlwaysAuditedAndUpheldPaysLessAuditFee() public {
        uint96 floor = uint96(market.collateralFloor(10e18, 10_000));
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, floor, 10_000, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, TRUTH);
        vm.expectRevert();
        market.rollAudit(id, t); // the coin's block has not been mined yet
        _next(1);
        _next(1);
        market.rollAudit(id, t);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Challenged));
        assertEq(market.challengerOf(id), address(0));
        assertEq(market.bonded(), 0);
        address[] memory committee = _drawCommittee(id);
        _vote(id, committee, TRUTH);
        Books memory before = _books();
        market.resolveDispute(id, t);
        Books memory after_ = _books();
        (uint256 pf, uint256 sf, uint256 rest) = _fees(10e18);
        uint256 auditFee = 10e18 * 1_000 / 10_000;
        assertEq(market.balanceOf(operators[0]), rest - auditFee);
        assertEq(after_.courtTokens, before.courtTokens + auditFee);
        assertEq(after_.treasury, before.treasury + pf);
        assertEq(after_.coordinator, before.coordinator + sf);
    }

    function test_dispute_escalatedArbiterDecides() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 30e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, WRONG);
        vm.prank(challenger);
        market.challenge(id, t);
        _drawCommittee(id);
        // Nobody votes: the case escalates after the reveal deadline.
        vm.warp(court.caseOf(id).revealDeadline + 1);
        court.tally(id);
        assertEq(uint8(court.caseOf(id).phase), uint8(DisputeCourt.Phase.Escalated));
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(DisputeCourt.NotArbiter.selector, client));
        court.arbitrate(id, true);
        vm.prank(arbiter);
        court.arbitrate(id, true);
        market.resolveDispute(id, t);
        assertEq(registry.getOperator(operators[0]).stake, STAKE - 30e18);
        assertEq(uint8(market.statusOf(id)), uint8(TaskMarket.Status.Refunded));
    }

    function test_dispute_undecidedIsNeutral() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 30e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        _submit(id, t, WRONG);
        vm.prank(challenger);
        market.challenge(id, t);
        _drawCommittee(id);
        vm.warp(court.caseOf(id).revealDeadline + 1);
        court.tally(id);
        vm.warp(vm.getBlockTimestamp() + ARBITER_WINDOW + 1);
        Books memory before = _books();
        market.resolveDispute(id, t);
        Books memory after_ = _books();
        assertEq(after_.challenger, before.challenger + 30e18);
        assertEq(after_.client, before.client + 10e18);
        assertEq(registry.getOperator(operators[0]).stake, STAKE);
        assertEq(_locked(operators[0]), 0);
        assertEq(after_.bonded, 0);
    }

    // ---------------------------------------------------------------- withdrawals

    function test_withdraw_paysBalanceAndTreasuryAccrual() public {
        _replicatedPaid(TRUTH);
        uint256 owed = market.balanceOf(treasury);
        assertGt(owed, 0);
        vm.prank(treasury);
        market.withdraw();
        assertEq(token.balanceOf(treasury), owed);
        assertEq(market.treasuryAccrued(), 0);
        uint256 opOwed = market.balanceOf(operators[0]);
        vm.prank(operators[0]);
        market.withdraw();
        assertEq(market.balanceOf(operators[0]), 0);
        vm.prank(operators[0]);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.NothingToWithdraw.selector, operators[0]));
        market.withdraw();
        assertEq(token.balanceOf(operators[0]), 1_000_000e18 - STAKE + opOwed);
    }
}

contract NodeRegistryTest is Base {
    function setUp() public {
        _deploy();
    }

    function test_unstake_waitsForUnbonding() public {
        address op = operators[0];
        vm.prank(op);
        registry.requestUnstake(400e18);
        NodeRegistry.Operator memory o = registry.getOperator(op);
        assertEq(o.stake, STAKE - 400e18);
        assertEq(o.unbonding, 400e18);
        vm.prank(op);
        vm.expectRevert();
        registry.withdrawUnbonded();
        vm.warp(vm.getBlockTimestamp() + UNBONDING);
        uint256 before = token.balanceOf(op);
        vm.prank(op);
        registry.withdrawUnbonded();
        assertEq(token.balanceOf(op), before + 400e18);
        assertEq(token.balanceOf(address(registry)), N_OPERATORS * STAKE - 400e18);
    }

    function test_unstake_cannotTakeLockedCollateral() public {
        (uint256 id, TaskMarket.Task memory t) = _create(_optimisticRequest(10e18, 20e18, 0, 100), client);
        _assign(id, t, _ops(0, 1));
        vm.prank(operators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(NodeRegistry.InsufficientFreeStake.selector, operators[0], STAKE - 20e18, STAKE)
        );
        registry.requestUnstake(STAKE);
    }

    function test_stake_belowMinimumIsIneligible() public {
        address op = operators[0];
        vm.prank(op);
        registry.requestUnstake(STAKE - MIN_STAKE + 1);
        assertFalse(registry.isEligible(op));
        vm.prank(op);
        registry.stake(1);
        assertTrue(registry.isEligible(op));
    }
}
