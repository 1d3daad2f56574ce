// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {TestToken} from "../src/TestToken.sol";
import {NodeRegistry} from "../src/NodeRegistry.sol";
import {VerifierRegistry} from "../src/VerifierRegistry.sol";
import {DisputeCourt} from "../src/DisputeCourt.sol";
import {TaskMarket} from "../src/TaskMarket.sol";

/// @notice One test deployment, as the Rust harness (`crates/settlement/tests/it/harness.rs`)
///         makes it: `minAuditBps = 0` so tasks may go unaudited, a committee of 3, the same
///         fees, stakes and windows; named actors funded and approved; every operator
///         registered and staked.
abstract contract Base is Test {
    uint256 internal constant MIN_STAKE = 100e18;
    uint256 internal constant STAKE = 1_000e18;
    uint16 internal constant PROTOCOL_BPS = 100;
    uint16 internal constant SCHEDULER_BPS = 50;
    uint256 internal constant UNBONDING = 3_600;
    uint256 internal constant JAIL = 3_600;
    uint32 internal constant DISPUTE_WINDOW = 600;
    uint32 internal constant REVEAL_WINDOW = 300;
    uint32 internal constant ARBITER_WINDOW = 900;
    uint32 internal constant MIN_RESPONSE = 10;
    uint32 internal constant MIN_REVEAL = 10;
    uint256 internal constant N_OPERATORS = 7;

    TestToken internal token;
    NodeRegistry internal registry;
    VerifierRegistry internal verifiers;
    DisputeCourt internal court;
    TaskMarket internal market;

    address internal owner = makeAddr("owner");
    address internal coordinator = makeAddr("coordinator");
    address internal treasury = makeAddr("treasury");
    address internal client = makeAddr("client");
    address internal client2 = makeAddr("client2");
    address internal challenger = makeAddr("challenger");
    address internal arbiter = makeAddr("arbiter");
    address[] internal operators;

    function _deploy() internal {
        vm.warp(1_000_000);
        vm.roll(100);
        token = new TestToken();
        registry = new NodeRegistry(owner, token, MIN_STAKE, UNBONDING, JAIL);
        verifiers = new VerifierRegistry(owner);
        court = new DisputeCourt(owner, token, registry, 3, DISPUTE_WINDOW, REVEAL_WINDOW, arbiter, ARBITER_WINDOW);
        market = new TaskMarket(
            owner, token, registry, verifiers, treasury, PROTOCOL_BPS, SCHEDULER_BPS, address(court), MIN_RESPONSE, MIN_REVEAL, 0
        );
        vm.startPrank(owner);
        registry.setMarket(address(market));
        registry.setCourt(address(court));
        court.setMarket(address(market));
        market.setCoordinator(coordinator, true);
        vm.stopPrank();
        address[4] memory payers = [client, client2, challenger, coordinator];
        for (uint256 i = 0; i < payers.length; ++i) {
            token.mint(payers[i], 1_000_000e18);
            vm.prank(payers[i]);
            token.approve(address(market), type(uint256).max);
        }
        for (uint256 i = 0; i < N_OPERATORS; ++i) {
            address op = makeAddr(string.concat("operator", vm.toString(i)));
            operators.push(op);
            token.mint(op, 1_000_000e18);
            vm.startPrank(op);
            token.approve(address(registry), type(uint256).max);
            token.approve(address(market), type(uint256).max);
            registry.register(op, keccak256(abi.encode(op)), "", 0, 0);
            registry.stake(STAKE);
            vm.stopPrank();
        }
        // Committee draws skip members that joined the eligible set at or after a case opened.
        vm.roll(vm.getBlockNumber() + 1);
        vm.warp(vm.getBlockTimestamp() + 1);
    }

    // ---------------------------------------------------------------- requests and tasks

    function _replicatedRequest(uint8 n, uint96 bounty, uint96 collateral)
        internal
        view
        returns (TaskMarket.TaskRequest memory r)
    {
        r.mode = TaskMarket.Mode.Replicated;
        r.replication = n;
        r.quorum = n / 2 + 1;
        r.programDigest = keccak256("program");
        r.inputDigest = keccak256("input");
        r.bounty = bounty;
        r.collateral = collateral;
        r.assignDeadline = uint32(vm.getBlockTimestamp() + 100);
        r.commitDeadline = uint32(vm.getBlockTimestamp() + 400);
        r.revealDeadline = uint32(vm.getBlockTimestamp() + 700);
    }

    function _optimisticRequest(uint96 bounty, uint96 collateral, uint16 auditBps, uint32 challengeWindow)
        internal
        view
        returns (TaskMarket.TaskRequest memory r)
    {
        r.mode = TaskMarket.Mode.Optimistic;
        r.replication = 1;
        r.quorum = 1;
        r.programDigest = keccak256("program");
        r.inputDigest = keccak256("input");
        r.bounty = bounty;
        r.collateral = collateral;
        r.assignDeadline = uint32(vm.getBlockTimestamp() + 100);
        r.commitDeadline = uint32(vm.getBlockTimestamp() + 400);
        r.challengeWindow = challengeWindow;
        r.auditBps = auditBps;
    }

    /// @dev The `Task` a freshly created task carries.
    function _newTask(TaskMarket.TaskRequest memory r, address who) internal view returns (TaskMarket.Task memory t) {
        t.request = r;
        t.client = who;
        t.protocolFeeBps = market.protocolFeeBps();
        t.schedulerFeeBps = market.schedulerFeeBps();
    }

    function _create(TaskMarket.TaskRequest memory r, address who)
        internal
        returns (uint256 id, TaskMarket.Task memory t)
    {
        t = _newTask(r, who);
        vm.prank(who);
        id = market.createTask(r, PROTOCOL_BPS, SCHEDULER_BPS, address(0));
    }

    function _assign(uint256 id, TaskMarket.Task memory t, address[] memory ops) internal {
        vm.prank(coordinator);
        market.assign(id, t, ops);
        t.assigner = coordinator;
        t.operators = ops;
    }

    function _ops(uint256 from, uint256 n) internal view returns (address[] memory ops) {
        ops = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            ops[i] = operators[from + i];
        }
    }

    function _salt(uint256 id, address op) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", id, op));
    }

    /// @dev Locked collateral as the registry counts it now.
    function _locked(address op) internal view returns (uint256) {
        return registry.getOperator(op).stake - registry.freeStake(op);
    }

    function _next(uint256 secs) internal {
        vm.roll(vm.getBlockNumber() + 1);
        vm.warp(vm.getBlockTimestamp() + secs);
    }
}
