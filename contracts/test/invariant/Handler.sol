// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, Vm} from "forge-std/Test.sol";
import {TestToken} from "../../src/TestToken.sol";
import {NodeRegistry} from "../../src/NodeRegistry.sol";
import {DisputeCourt} from "../../src/DisputeCourt.sol";
import {TaskMarket} from "../../src/TaskMarket.sol";

/// @notice Drives the market, the registry and the court through every entry point with
///         arguments that mostly pass the contracts' checks (a call that would fail its
///         precondition returns early instead of reverting, so runs are not wasted). It keeps
///         the `Task` each task carries, the truth of each task (operators and the committee
///         know it; some operators cheat), and ghost records the invariants read. Checks that
///         need the moment of a call (events, balance changes, monotonicity) are made here and
///         latched into flags the invariants assert.
contract Handler is Test {
    uint256 internal constant DECLINED = 1;
    uint256 internal constant REVEALED_BIT = 1 << 255;
    uint256 internal constant CLEARED = 1 << 240;

    TestToken public token;
    NodeRegistry public registry;
    DisputeCourt public court;
    TaskMarket public market;
    address public coordinator;
    address public treasury;
    address public challenger;
    address public arbiter;
    address[] public clients;
    address[] public operators;

    TaskMarket.Task[] internal ts; // task id i + 1
    mapping(uint256 => bytes32) public truthOf;
    mapping(uint256 => bool) internal cheats; // the optimistic operator posts a wrong digest
    mapping(uint256 => uint256) internal cheatSeats;
    mapping(uint256 => uint256) internal submitBlock;
    mapping(uint256 => mapping(uint256 => bytes32)) internal seatDigest;
    mapping(uint256 => mapping(uint256 => uint256)) internal seatCommitBlock;
    /// Posted the truth within its window (revealed it, or submitted it): must never be slashed.
    mapping(uint256 => mapping(address => bool)) public diligent;

    // ---------------------------------------------------------------- ghost flags and counters
    mapping(uint256 => uint256) public settledCount;
    mapping(uint256 => uint8) internal lastRank;
    uint256 internal lastAccrued;
    bool public statusRegressed;
    bool public settledTwice;
    bool public diligentSlashed;
    bool public splitWrong;
    bool public accrualDecreased;
    bool public slashWrong;
    mapping(bytes32 => uint256) public calls;
    bytes32[] public callNames;

    constructor(
        TestToken token_,
        NodeRegistry registry_,
        DisputeCourt court_,
        TaskMarket market_,
        address coordinator_,
        address treasury_,
        address challenger_,
        address arbiter_,
        address[] memory clients_,
        address[] memory operators_
    ) {
        token = token_;
        registry = registry_;
        court = court_;
        market = market_;
        coordinator = coordinator_;
        treasury = treasury_;
        challenger = challenger_;
        arbiter = arbiter_;
        clients = clients_;
        operators = operators_;
    }

    // ---------------------------------------------------------------- views for the invariants

    function taskCount() external view returns (uint256) {
        return ts.length;
    }

    function taskOf(uint256 id) external view returns (TaskMarket.Task memory) {
        return ts[id - 1];
    }

    function operatorCount() external view returns (uint256) {
        return operators.length;
    }

    function clientCount() external view returns (uint256) {
        return clients.length;
    }

    function callNameCount() external view returns (uint256) {
        return callNames.length;
    }

    // ---------------------------------------------------------------- the step around every call

    modifier step(bytes32 name, uint256 seed) {
        vm.roll(vm.getBlockNumber() + 1);
        vm.warp(vm.getBlockTimestamp() + seed % 7);
        vm.recordLogs();
        _;
        if (calls[name] == 0) callNames.push(name);
        calls[name] += 1;
        _afterCall(name == "withdraw" || name == "treasuryWithdraw");
    }

    function _afterCall(bool treasuryMayWithdraw) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (l.emitter != address(market)) continue;
            bytes32 sig = l.topics[0];
            if (sig == TaskMarket.TaskFinalized.selector) {
                uint256 id = uint256(l.topics[1]);
                (, uint256 winners, uint256 each, uint256 pf, uint256 sf) =
                    abi.decode(l.data, (bytes32, uint256, uint256, uint256, uint256));
                _checkSplit(id, winners, each, pf, sf);
                if (++settledCount[id] > 1) settledTwice = true;
            } else if (sig == TaskMarket.TaskRefunded.selector) {
                uint256 id = uint256(l.topics[1]);
                (, uint256 amount) = abi.decode(l.data, (uint8, uint256));
                if (amount != ts[id - 1].request.bounty) splitWrong = true;
                if (++settledCount[id] > 1) settledTwice = true;
            } else if (sig == TaskMarket.OperatorSlashed.selector) {
                uint256 id = uint256(l.topics[1]);
                address op = address(uint160(uint256(l.topics[2])));
                (uint256 amount,) = abi.decode(l.data, (uint256, uint8));
                if (diligent[id][op]) diligentSlashed = true;
                if (amount != ts[id - 1].request.collateral) slashWrong = true;
            }
        }
        for (uint256 id = 1; id <= ts.length; ++id) {
            uint8 s = uint8(market.statusOf(id));
            uint8 r = s >= uint8(TaskMarket.Status.Finalized) ? 5 : s;
            uint8 last = lastRank[id];
            if (r < last) statusRegressed = true;
            if (last == 5 && s != lastStatusOf[id]) statusRegressed = true;
            lastRank[id] = r;
            lastStatusOf[id] = s;
        }
        uint256 accrued = market.treasuryAccrued();
        if (accrued < lastAccrued && !treasuryMayWithdraw) accrualDecreased = true;
        lastAccrued = accrued;
    }

    mapping(uint256 => uint8) internal lastStatusOf;

    /// @dev The fee split of a settled task: fees are the snapshotted shares of the bounty, the
    ///      winners' equal shares and the dust (less than one base unit per winner) make up the
    ///      rest, less the audit fee when an audit upheld the result.
    function _checkSplit(uint256 id, uint256 winners, uint256 each, uint256 pf, uint256 sf) internal {
        TaskMarket.Task storage t = ts[id - 1];
        uint256 bounty = t.request.bounty;
        if (pf != bounty * t.protocolFeeBps / 10_000 || sf != bounty * t.schedulerFeeBps / 10_000) splitWrong = true;
        if (winners == 0) {
            splitWrong = true;
            return;
        }
        uint256 rest = bounty - pf - sf;
        uint256 auditFee = bounty * 1_000 / 10_000;
        bool plain = each * winners <= rest && rest - each * winners < winners;
        bool audited = rest >= auditFee && each * winners <= rest - auditFee && rest - auditFee - each * winners < winners;
        if (!plain && !(audited && t.request.auditBps != 0)) splitWrong = true;
    }

    // ---------------------------------------------------------------- picking

    function _status(uint256 id) internal view returns (TaskMarket.Status) {
        return market.statusOf(id);
    }

    /// @dev The first task from a seeded offset that `ok` accepts (0: none).
    function _pick(uint256 seed, function(uint256) view returns (bool) ok) internal view returns (uint256) {
        uint256 n = ts.length;
        if (n == 0) return 0;
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = (start + k) % n + 1;
            if (ok(id)) return id;
        }
        return 0;
    }

    function _free(address op) internal view returns (uint256) {
        return registry.freeStake(op);
    }

    function _usable(address op, uint256 collateral) internal view returns (bool) {
        return registry.isEligible(op) && _free(op) >= collateral;
    }

    function _seated(TaskMarket.Task storage t, address op) internal view returns (bool) {
        for (uint256 i = 0; i < t.operators.length; ++i) {
            if (t.operators[i] == op) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- clients

    function createTask(uint256 seed, uint96 bountySeed, uint96 collateralSeed, uint32 windowSeed)
        external
        step("createTask", seed)
    {
        if (ts.length >= 40) return;
        address who = clients[seed % clients.length];
        bool replicated = (seed >> 8) % 2 == 0;
        TaskMarket.TaskRequest memory r;
        r.programDigest = keccak256(abi.encode("program", seed));
        r.inputDigest = keccak256(abi.encode("input", seed));
        r.bounty = uint96(bound(bountySeed, 1e15, 20e18));
        r.collateral = uint96(bound(collateralSeed, 1e15, 30e18));
        r.assignDeadline = uint32(vm.getBlockTimestamp() + bound(windowSeed, 10, 300));
        r.commitDeadline = r.assignDeadline + uint32(bound(windowSeed >> 8, 10, 600));
        if (replicated) {
            r.mode = TaskMarket.Mode.Replicated;
            r.replication = uint8(3 + (seed >> 16) % 3);
            r.quorum = r.replication / 2 + 1;
            r.revealDeadline = r.commitDeadline + uint32(bound(windowSeed >> 16, 10, 600));
        } else {
            r.mode = TaskMarket.Mode.Optimistic;
            r.replication = 1;
            r.quorum = 1;
            r.challengeWindow = uint32(bound(windowSeed >> 24, 1, 600));
            uint256 pick = (seed >> 16) % 4;
            r.auditBps = pick < 2 ? 0 : pick == 2 ? 2_000 : 10_000;
            if (r.auditBps != 0) {
                r.bounty = uint96(bound(bountySeed, 1e15, 5e18));
                r.collateral = uint96(market.collateralFloor(r.bounty, r.auditBps) + collateralSeed % 1e18);
            }
        }
        uint16 pf = market.protocolFeeBps();
        uint16 sf = market.schedulerFeeBps();
        vm.prank(who);
        uint256 id = market.createTask(r, pf, sf, address(0));
        TaskMarket.Task storage t = ts.push();
        t.request = r;
        t.client = who;
        t.protocolFeeBps = pf;
        t.schedulerFeeBps = sf;
        assertEq(id, ts.length);
        truthOf[id] = keccak256(abi.encode("truth", id));
        cheats[id] = (seed >> 24) % 3 == 0;
    }

    function _isOpen(uint256 id) internal view returns (bool) {
        return _status(id) == TaskMarket.Status.Open;
    }

    function cancel(uint256 seed) external step("cancel", seed) {
        uint256 id = _pick(seed, _isOpen);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        vm.prank(t.client);
        market.cancel(id, t);
    }

    // ---------------------------------------------------------------- coordinator

    function _assignable(uint256 id) internal view returns (bool) {
        return _isOpen(id) && vm.getBlockTimestamp() <= ts[id - 1].request.assignDeadline;
    }

    function _chooseOperators(uint256 seed, TaskMarket.Task storage t) internal view returns (address[] memory ops) {
        uint256 n = t.request.replication;
        ops = new address[](n);
        uint256 k;
        for (uint256 j = 0; j < operators.length && k < n; ++j) {
            address op = operators[(seed + j) % operators.length];
            if (_usable(op, t.request.collateral)) ops[k++] = op;
        }
        if (k < n) return new address[](0);
    }

    function assign(uint256 seed) external step("assign", seed) {
        uint256 id = _pick(seed, _assignable);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        address[] memory ops = _chooseOperators(seed >> 8, t);
        if (ops.length == 0) return;
        vm.prank(coordinator);
        market.assign(id, t, ops);
        t.assigner = coordinator;
        t.operators = ops;
    }

    /// @dev A batch of the picked task and, if there is one, a stale entry (a task already
    ///      assigned, or the same task twice): the stale entry is skipped, the good one assigned.
    function assignBatch(uint256 seed) external step("assignBatch", seed) {
        uint256 id = _pick(seed, _assignable);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        address[] memory ops = _chooseOperators(seed >> 8, t);
        if (ops.length == 0) return;
        uint256[] memory ids = new uint256[](2);
        TaskMarket.Task[] memory batch = new TaskMarket.Task[](2);
        address[][] memory opss = new address[][](2);
        ids[0] = id;
        batch[0] = t;
        opss[0] = ops;
        ids[1] = id; // by then assigned: skipped with AssignSkipped
        batch[1] = t;
        opss[1] = ops;
        vm.prank(coordinator);
        market.assignBatch(ids, batch, opss);
        t.assigner = coordinator;
        t.operators = ops;
    }

    function _isAssigned(uint256 id) internal view returns (bool) {
        return _status(id) == TaskMarket.Status.Assigned;
    }

    function reassign(uint256 seed) external step("reassign", seed) {
        uint256 id = _pick(seed, _isAssigned);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        uint256 deadline = t.request.commitDeadline;
        if (vm.getBlockTimestamp() > deadline || deadline - vm.getBlockTimestamp() < 10) return;
        uint256 n = t.operators.length;
        uint256 seat = (seed >> 8) % n;
        if (t.request.mode == TaskMarket.Mode.Replicated) {
            uint256 w = market.seatWord(id, seat);
            if (w > DECLINED) return; // committed or revealed
            if (w == DECLINED) {
                for (uint256 j = 0; j < n; ++j) {
                    if (market.seatWord(id, j) & REVEALED_BIT != 0) return;
                }
            }
        }
        address replacement;
        for (uint256 j = 0; j < operators.length; ++j) {
            address op = operators[(seed >> 16 + j) % operators.length];
            if (!_seated(t, op) && _usable(op, t.request.collateral)) {
                replacement = op;
                break;
            }
        }
        if (replacement == address(0)) return;
        vm.prank(coordinator);
        market.reassign(id, t, seat, replacement);
        t.operators[seat] = replacement;
        delete seatDigest[id][seat];
        delete seatCommitBlock[id][seat];
    }

    // ---------------------------------------------------------------- operators: replicated

    function commit(uint256 seed) external step("commit", seed) {
        uint256 id = _pick(seed, _isAssigned);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (t.request.mode != TaskMarket.Mode.Replicated || vm.getBlockTimestamp() > t.request.commitDeadline) return;
        uint256 n = t.operators.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 seat = (seed >> 8 + k) % n;
            if (market.seatWord(id, seat) != 0) continue;
            // A minority cheats, never enough for a quorum: honest seats stay the majority.
            bytes32 digest = truthOf[id];
            if ((seed >> 20) % 3 == 0 && cheatSeats[id] < n - t.request.quorum) {
                digest = keccak256(abi.encode("lie", id));
                cheatSeats[id] += 1;
            }
            address op = t.operators[seat];
            bytes32 c = market.commitmentOf(id, op, digest, keccak256(abi.encode(id, op)));
            vm.prank(op);
            market.commit(id, t, c);
            seatDigest[id][seat] = digest;
            seatCommitBlock[id][seat] = vm.getBlockNumber();
            return;
        }
    }

    function reveal(uint256 seed) external step("reveal", seed) {
        uint256 id = _pick(seed, _isAssigned);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (t.request.mode != TaskMarket.Mode.Replicated || vm.getBlockTimestamp() > t.request.revealDeadline) return;
        uint256 n = t.operators.length;
        uint256 posted = (market.taskWord(id) >> 240) & 0xff;
        if (vm.getBlockTimestamp() <= t.request.commitDeadline && posted < n) return;
        for (uint256 k = 0; k < n; ++k) {
            uint256 seat = (seed >> 8 + k) % n;
            uint256 w = market.seatWord(id, seat);
            if (w <= DECLINED || w & REVEALED_BIT != 0) continue;
            if (vm.getBlockNumber() <= seatCommitBlock[id][seat]) continue;
            address op = t.operators[seat];
            vm.prank(op);
            market.reveal(id, t, seatDigest[id][seat], keccak256(abi.encode(id, op)), seatCommitBlock[id][seat]);
            if (seatDigest[id][seat] == truthOf[id]) diligent[id][op] = true;
            return;
        }
    }

    function decline(uint256 seed) external step("decline", seed) {
        uint256 id = _pick(seed, _isAssigned);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (vm.getBlockTimestamp() > t.request.commitDeadline) return;
        uint256 n = t.operators.length;
        uint256 seat = (seed >> 8) % n;
        if (t.request.mode == TaskMarket.Mode.Replicated && market.seatWord(id, seat) != 0) return;
        vm.prank(t.operators[seat]);
        market.decline(id, t);
    }

    // ---------------------------------------------------------------- operators: optimistic

    function submitResult(uint256 seed) external step("submitResult", seed) {
        uint256 id = _pick(seed, _isAssigned);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (t.request.mode != TaskMarket.Mode.Optimistic || vm.getBlockTimestamp() > t.request.commitDeadline) return;
        bytes32 digest = cheats[id] ? keccak256(abi.encode("lie", id)) : truthOf[id];
        vm.prank(t.operators[0]);
        market.submitResult(id, t, digest);
        t.submittedAt = uint32(vm.getBlockTimestamp());
        t.result = digest;
        submitBlock[id] = vm.getBlockNumber();
        if (!cheats[id]) diligent[id][t.operators[0]] = true;
    }

    function _isSubmitted(uint256 id) internal view returns (bool) {
        return _status(id) == TaskMarket.Status.Submitted;
    }

    function rollAudit(uint256 seed) external step("rollAudit", seed) {
        uint256 id = _pick(seed, _isSubmitted);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (t.request.auditBps == 0 || market.taskWord(id) & CLEARED != 0) return;
        if (vm.getBlockNumber() <= submitBlock[id] + 1) return;
        market.rollAudit(id, t);
    }

    /// @dev The challenger disputes wrong results, and now and then a right one (griefing: it
    ///      must lose its bond and the operator must not be slashed).
    function challenge(uint256 seed) external step("challenge", seed) {
        uint256 id = _pick(seed, _isSubmitted);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        if (vm.getBlockTimestamp() > uint256(t.submittedAt) + t.request.challengeWindow) return;
        if (t.result == truthOf[id] && (seed >> 8) % 4 != 0) return;
        vm.prank(challenger);
        market.challenge(id, t);
    }

    // ---------------------------------------------------------------- settlement

    function _finalizable(uint256 id) internal view returns (bool) {
        TaskMarket.Status s = _status(id);
        TaskMarket.Task storage t = ts[id - 1];
        if (t.request.mode == TaskMarket.Mode.Replicated) {
            if (s != TaskMarket.Status.Assigned) return false;
            if (vm.getBlockTimestamp() > t.request.revealDeadline) return true;
            for (uint256 i = 0; i < t.operators.length; ++i) {
                uint256 w = market.seatWord(id, i);
                if (w != DECLINED && w & REVEALED_BIT == 0) return false;
            }
            return true;
        }
        if (s != TaskMarket.Status.Submitted) return false;
        if (vm.getBlockTimestamp() <= uint256(t.submittedAt) + t.request.challengeWindow) return false;
        return t.request.auditBps == 0 || market.taskWord(id) & CLEARED != 0 || vm.getBlockNumber() > submitBlock[id] + 1;
    }

    struct Snap {
        uint256[] ops;
        uint256 coordinator;
        uint256 accrued;
        uint256 treasury;
        uint256 escrowed;
    }

    function _snap(TaskMarket.Task storage t) internal view returns (Snap memory s) {
        s.ops = new uint256[](t.operators.length);
        for (uint256 i = 0; i < t.operators.length; ++i) {
            s.ops[i] = market.balanceOf(t.operators[i]);
        }
        s.coordinator = market.balanceOf(coordinator);
        s.treasury = market.balanceOf(treasury);
        s.escrowed = market.escrowed();
    }

    /// @dev Finalizes, then checks every actor's exact balance change against the split.
    function finalize(uint256 seed) external step("finalize", seed) {
        uint256 id = _pick(seed, _finalizable);
        if (id == 0) return;
        TaskMarket.Task storage t = ts[id - 1];
        uint256 n = t.operators.length;
        bytes32[] memory revealed = new bytes32[](t.request.mode == TaskMarket.Mode.Replicated ? n : 0);
        uint256 majority;
        for (uint256 i = 0; i < revealed.length; ++i) {
            uint256 w = market.seatWord(id, i);
            if (w != DECLINED && w & REVEALED_BIT != 0) {
                revealed[i] = seatDigest[id][i];
            }
        }
        Snap memory before = _snap(t);
        uint256 slashedBefore;
        for (uint256 i = 0; i < n; ++i) {
            slashedBefore += registry.getOperator(t.operators[i]).stake;
        }
        market.finalize(id, t, revealed);
        if (_status(id) != TaskMarket.Status.Finalized) return; // audited, or refunded: no majority
        Snap memory after_ = _snap(t);
        uint256 slashed;
        for (uint256 i = 0; i < n; ++i) {
            slashed += registry.getOperator(t.operators[i]).stake;
        }
        slashed = slashedBefore - slashed;
        uint256 bounty = t.request.bounty;
        uint256 pf = bounty * t.protocolFeeBps / 10_000;
        uint256 sf = bounty * t.schedulerFeeBps / 10_000;
        uint256 rest = bounty - pf - sf;
        uint256 winners;
        uint256 paidTotal;
        for (uint256 i = 0; i < n; ++i) {
            if (after_.ops[i] > before.ops[i]) {
                ++winners;
                paidTotal += after_.ops[i] - before.ops[i];
            }
        }
        majority = winners == 0 ? 1 : winners;
        uint256 each = rest / majority;
        for (uint256 i = 0; i < n; ++i) {
            uint256 d = after_.ops[i] - before.ops[i];
            if (d != 0 && d != each) splitWrong = true;
        }
        if (after_.coordinator - before.coordinator != sf) splitWrong = true;
        if (after_.treasury - before.treasury != pf + (rest - each * majority) + slashed) splitWrong = true;
        if (before.escrowed - after_.escrowed != bounty) splitWrong = true;
        if (paidTotal + sf + (after_.treasury - before.treasury) != bounty + slashed) splitWrong = true;
    }

    function _timedOut(uint256 id) internal view returns (bool) {
        TaskMarket.Status s = _status(id);
        TaskMarket.Task storage t = ts[id - 1];
        if (s == TaskMarket.Status.Open) return vm.getBlockTimestamp() > t.request.assignDeadline;
        return s == TaskMarket.Status.Assigned && t.request.mode != TaskMarket.Mode.Replicated
            && vm.getBlockTimestamp() > t.request.commitDeadline;
    }

    function claimTimeout(uint256 seed) external step("claimTimeout", seed) {
        uint256 id = _pick(seed, _timedOut);
        if (id == 0) return;
        market.claimTimeout(id, ts[id - 1]);
    }

    // ---------------------------------------------------------------- the court

    function _isChallenged(uint256 id) internal view returns (bool) {
        return _status(id) == TaskMarket.Status.Challenged;
    }

    function _caseIn(uint256 seed, DisputeCourt.Phase phase) internal view returns (uint256) {
        uint256 n = ts.length;
        if (n == 0) return 0;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = (seed + k) % n + 1;
            if (_isChallenged(id) && court.caseOf(id).phase == phase) return id;
        }
        return 0;
    }

    function draw(uint256 seed) external step("draw", seed) {
        uint256 id = _caseIn(seed, DisputeCourt.Phase.Drawing);
        if (id == 0) return;
        DisputeCourt.Case memory c = court.caseOf(id);
        if (vm.getBlockTimestamp() > c.drawDeadline || vm.getBlockNumber() <= c.seedBlock) return;
        court.draw(id);
    }

    function courtCommit(uint256 seed) external step("courtCommit", seed) {
        uint256 id = _caseIn(seed, DisputeCourt.Phase.Voting);
        if (id == 0) return;
        DisputeCourt.Case memory c = court.caseOf(id);
        if (vm.getBlockTimestamp() > c.commitDeadline) return;
        for (uint256 k = 0; k < c.committee.length; ++k) {
            address m = c.committee[(seed >> 8 + k) % c.committee.length];
            if (court.ballotWord(id, m) != 0) continue;
            // The committee re-executes honestly: it votes the truth.
            bytes32 ballot = court.ballotOf(id, m, truthOf[id], keccak256(abi.encode(id, m)));
            vm.prank(m);
            court.commit(id, ballot);
            return;
        }
    }

    function courtReveal(uint256 seed) external step("courtReveal", seed) {
        uint256 id = _caseIn(seed, DisputeCourt.Phase.Voting);
        if (id == 0) return;
        DisputeCourt.Case memory c = court.caseOf(id);
        if (vm.getBlockTimestamp() > c.revealDeadline) return;
        if (c.votes.committed < c.committee.length && vm.getBlockTimestamp() <= c.commitDeadline) return;
        for (uint256 k = 0; k < c.committee.length; ++k) {
            address m = c.committee[(seed >> 8 + k) % c.committee.length];
            if (court.ballotWord(id, m) >> 255 == 0) continue;
            vm.prank(m);
            court.reveal(id, truthOf[id], keccak256(abi.encode(id, m)));
            return;
        }
    }

    function tally(uint256 seed) external step("tally", seed) {
        uint256 id = _caseIn(seed, DisputeCourt.Phase.Voting);
        if (id == 0) id = _caseIn(seed, DisputeCourt.Phase.Drawing);
        if (id == 0) return;
        DisputeCourt.Case memory c = court.caseOf(id);
        if (c.phase == DisputeCourt.Phase.Drawing && vm.getBlockTimestamp() <= c.drawDeadline) return;
        if (
            c.phase == DisputeCourt.Phase.Voting && c.votes.revealed < c.committee.length
                && vm.getBlockTimestamp() <= c.revealDeadline
        ) return;
        court.tally(id);
    }

    /// @dev The arbiter rules by the truth, or (now and then) lets its window pass.
    function arbitrate(uint256 seed) external step("arbitrate", seed) {
        uint256 id = _caseIn(seed, DisputeCourt.Phase.Escalated);
        if (id == 0) return;
        if (vm.getBlockTimestamp() > court.caseOf(id).arbiterDeadline || (seed >> 8) % 4 == 0) return;
        vm.prank(arbiter);
        court.arbitrate(id, ts[id - 1].result != truthOf[id]);
    }

    function _resolvable(uint256 id) internal view returns (bool) {
        if (!_isChallenged(id)) return false;
        DisputeCourt.Case memory c = court.caseOf(id);
        return c.phase == DisputeCourt.Phase.Decided
            || (c.phase == DisputeCourt.Phase.Escalated && vm.getBlockTimestamp() > c.arbiterDeadline);
    }

    function resolveDispute(uint256 seed) external step("resolveDispute", seed) {
        uint256 id = _pick(seed, _resolvable);
        if (id == 0) return;
        market.resolveDispute(id, ts[id - 1]);
    }

    // ---------------------------------------------------------------- money out, stake

    function withdraw(uint256 seed) external step("withdraw", seed) {
        uint256 k = seed % (operators.length + clients.length + 3);
        address who = k < operators.length
            ? operators[k]
            : k < operators.length + clients.length
                ? clients[k - operators.length]
                : k == operators.length + clients.length ? coordinator : k == operators.length + clients.length + 1 ? challenger : treasury;
        if (market.balanceOf(who) == 0) return;
        vm.prank(who);
        market.withdraw();
    }

    function courtWithdraw(uint256 seed) external step("courtWithdraw", seed) {
        address who = (seed >> 8) % 4 == 0 ? treasury : operators[seed % operators.length];
        if (court.balanceOf(who) == 0) return;
        vm.prank(who);
        court.withdraw();
    }

    function stake(uint256 seed, uint256 amount) external step("stake", seed) {
        address op = operators[seed % operators.length];
        amount = bound(amount, 1, 300e18);
        vm.prank(op);
        registry.stake(amount);
    }

    function unstake(uint256 seed, uint256 amount) external step("unstake", seed) {
        address op = operators[seed % operators.length];
        uint256 free = _free(op);
        if (free == 0) return;
        amount = bound(amount, 1, free);
        vm.prank(op);
        registry.requestUnstake(amount);
    }

    function withdrawUnbonded(uint256 seed) external step("withdrawUnbonded", seed) {
        address op = operators[seed % operators.length];
        NodeRegistry.Operator memory o = registry.getOperator(op);
        if (o.unbonding == 0 || vm.getBlockTimestamp() < o.unbondingReadyAt) return;
        vm.prank(op);
        registry.withdrawUnbonded();
    }

    /// @dev Time passes: up to ten minutes and a few blocks.
    function warp(uint256 seed) external step("warp", seed) {
        vm.warp(vm.getBlockTimestamp() + bound(seed, 1, 600));
        vm.roll(vm.getBlockNumber() + 1 + (seed >> 32) % 3);
    }
}
