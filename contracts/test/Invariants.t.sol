// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Base} from "./Base.sol";
import {Handler} from "./invariant/Handler.sol";
import {TaskMarket} from "../src/TaskMarket.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";

/// @notice The market's, the registry's and the court's books under random sequences of every
///         entry point (see `Handler`). Runs and depth are in foundry.toml.
contract InvariantsTest is StdInvariant, Base {
    Handler internal handler;

    function setUp() public {
        _deploy();
        address[] memory clients = new address[](2);
        clients[0] = client;
        clients[1] = client2;
        handler = new Handler(token, registry, court, market, coordinator, treasury, challenger, arbiter, clients, operators);
        targetContract(address(handler));
        bytes4[] memory s = new bytes4[](26);
        s[0] = Handler.createTask.selector;
        s[1] = Handler.createTask.selector; // twice: tasks are what everything else needs
        s[2] = Handler.cancel.selector;
        s[3] = Handler.assign.selector;
        s[4] = Handler.assignBatch.selector;
        s[5] = Handler.reassign.selector;
        s[6] = Handler.commit.selector;
        s[7] = Handler.reveal.selector;
        s[8] = Handler.decline.selector;
        s[9] = Handler.submitResult.selector;
        s[10] = Handler.rollAudit.selector;
        s[11] = Handler.challenge.selector;
        s[12] = Handler.finalize.selector;
        s[13] = Handler.claimTimeout.selector;
        s[14] = Handler.draw.selector;
        s[15] = Handler.courtCommit.selector;
        s[16] = Handler.courtReveal.selector;
        s[17] = Handler.tally.selector;
        s[18] = Handler.arbitrate.selector;
        s[19] = Handler.resolveDispute.selector;
        s[20] = Handler.withdraw.selector;
        s[21] = Handler.courtWithdraw.selector;
        s[22] = Handler.stake.selector;
        s[23] = Handler.unstake.selector;
        s[24] = Handler.withdrawUnbonded.selector;
        s[25] = Handler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: s}));
    }

    function _open(TaskMarket.Status s) internal pure returns (bool) {
        return s == TaskMarket.Status.Open || s == TaskMarket.Status.Assigned || s == TaskMarket.Status.Submitted
            || s == TaskMarket.Status.Challenged;
    }

    /// The market holds exactly what it owes: escrowed bounties, challenge bonds, every
    /// account's balance, and the treasury's accrual (`balanceOf(treasury)` includes it).
    function invariant_marketTokensEqualBooks() public view {
        uint256 owed = market.escrowed() + market.bonded() + market.balanceOf(treasury) + market.balanceOf(coordinator)
            + market.balanceOf(challenger) + market.balanceOf(client) + market.balanceOf(client2);
        for (uint256 i = 0; i < operators.length; ++i) {
            owed += market.balanceOf(operators[i]);
        }
        assertEq(token.balanceOf(address(market)), owed, "market tokens != escrowed + bonded + balances + accrual");
    }

    function invariant_registryTokensEqualStakePlusUnbonding() public view {
        uint256 sum;
        for (uint256 i = 0; i < operators.length; ++i) {
            sum += registry.getOperator(operators[i]).stake + registry.getOperator(operators[i]).unbonding;
        }
        assertEq(token.balanceOf(address(registry)), sum, "registry tokens != stake + unbonding");
    }

    function invariant_courtTokensEqualBalances() public view {
        uint256 sum = court.balanceOf(treasury);
        for (uint256 i = 0; i < operators.length; ++i) {
            sum += court.balanceOf(operators[i]);
        }
        assertEq(token.balanceOf(address(court)), sum, "court tokens != members' and treasury's balances");
    }

    function invariant_escrowedEqualsOpenBounties() public view {
        uint256 sum;
        for (uint256 id = 1; id <= handler.taskCount(); ++id) {
            if (_open(market.statusOf(id))) sum += handler.taskOf(id).request.bounty;
        }
        assertEq(market.escrowed(), sum, "escrowed != sum of open bounties");
    }

    function invariant_bondedEqualsOpenChallengeBonds() public view {
        uint256 sum;
        for (uint256 id = 1; id <= handler.taskCount(); ++id) {
            if (market.statusOf(id) == TaskMarket.Status.Challenged && market.challengerOf(id) != address(0)) {
                sum += handler.taskOf(id).request.collateral;
            }
        }
        assertEq(market.bonded(), sum, "bonded != sum of open challenge bonds");
    }

    /// Locked stake never exceeds stake, and equals what the operator's open seats and open
    /// committee seats hold: collateral leaves the lock only when the task or case that locked
    /// it is settled (release, pay or slash), never otherwise.
    function invariant_lockedIsOpenSeatsAndNeverAboveStake() public view {
        uint256 n = operators.length;
        uint256[] memory expected = new uint256[](n);
        for (uint256 id = 1; id <= handler.taskCount(); ++id) {
            TaskMarket.Status s = market.statusOf(id);
            TaskMarket.Task memory t = handler.taskOf(id);
            if (s == TaskMarket.Status.Assigned || s == TaskMarket.Status.Submitted || s == TaskMarket.Status.Challenged) {
                for (uint256 seat = 0; seat < t.operators.length; ++seat) {
                    if (t.request.mode == TaskMarket.Mode.Replicated && market.seatWord(id, seat) == 1) continue;
                    expected[_indexOf(t.operators[seat])] += t.request.collateral;
                }
            }
            DisputeCourt.Case memory c = court.caseOf(id);
            if (c.phase != DisputeCourt.Phase.None && c.phase != DisputeCourt.Phase.Closed) {
                for (uint256 k = 0; k < c.committee.length; ++k) {
                    expected[_indexOf(c.committee[k])] += c.snap.memberBond;
                }
            }
        }
        for (uint256 i = 0; i < n; ++i) {
            uint256 stake_ = registry.getOperator(operators[i]).stake;
            uint256 free = registry.freeStake(operators[i]); // reverts if locked > stake
            assertLe(free, stake_);
            assertEq(stake_ - free, expected[i], "locked != collateral of open seats and committee bonds");
        }
    }

    function _indexOf(address op) internal view returns (uint256) {
        for (uint256 i = 0; i < operators.length; ++i) {
            if (operators[i] == op) return i;
        }
        revert("not an operator");
    }

    function invariant_everyTaskSettlesAtMostOnce() public view {
        assertFalse(handler.settledTwice(), "a task settled twice");
        for (uint256 id = 1; id <= handler.taskCount(); ++id) {
            uint256 expected = _open(market.statusOf(id)) ? 0 : 1;
            assertEq(handler.settledCount(id), expected, "settlement events != terminal status");
        }
    }

    function invariant_payoutsEqualTheFeeSplit() public view {
        assertFalse(handler.splitWrong(), "a payout differs from the fee split");
        assertFalse(handler.slashWrong(), "a slash differs from the collateral");
    }

    function invariant_statusOnlyMovesForward() public view {
        assertFalse(handler.statusRegressed(), "a status moved backwards");
    }

    function invariant_diligentOperatorNeverSlashed() public view {
        assertFalse(handler.diligentSlashed(), "an operator that posted the truth in time was slashed");
    }

    function invariant_treasuryAccrualNeverDecreases() public view {
        assertFalse(handler.accrualDecreased(), "treasury accrual decreased other than by its withdrawal");
    }

}
