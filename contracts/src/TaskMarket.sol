// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {NodeRegistry} from "./NodeRegistry.sol";
import {VerifierRegistry} from "./VerifierRegistry.sol";
import {IResultVerifier} from "./interfaces/IResultVerifier.sol";

/// @title TaskMarket
/// @notice Escrowed compute tasks, verified by replication (commit-reveal, k of n), by optimistic
///         execution with bonded challenges decided by a drawn committee, or by a proof checked by
///         a registered verifier. See docs/protocol.md for the state machine and every deadline.
///
/// Money: every token this contract holds is in exactly one of: a task's escrowed bounty
/// (`escrowed`), a challenger's bond (`bonded`), or a withdrawable balance (`balanceOf`).
/// Payouts, refunds, fees and slashed collateral are credited to balances and pulled with
/// `withdraw`. No path needs the coordinator: every deadline has a permissionless exit.
contract TaskMarket is Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Mode {
        Replicated,
        Optimistic,
        ZkProof
    }

    enum Status {
        None,
        Open, // funded, waiting for assignment
        Assigned, // operators hold collateral; commit/reveal (replicated) or submit
        Submitted, // optimistic: result posted, challenge window running
        Challenged, // optimistic: a bonded challenge awaits the committee
        Finalized, // paid out (terminal)
        Refunded // bounty returned to the client (terminal)
    }

    enum Seat {
        None,
        Assigned,
        Committed,
        Revealed,
        Declined
    }

    enum RefundReason {
        Cancelled,
        NotAssigned,
        NoSubmission,
        NoMajority,
        ChallengeUpheld
    }

    enum SlashReason {
        Silent, // committed or assigned but never revealed / submitted in time
        Dissent, // revealed a digest the majority did not
        WrongResult // optimistic result overturned by the committee
    }

    /// @notice What a client asks for. Deadlines are unix seconds.
    struct TaskRequest {
        Mode mode;
        uint8 replication; // operators to assign (1 for Optimistic and ZkProof)
        uint8 quorum; // matching reveals needed; a strict majority of `replication`
        bytes32 programDigest; // sha2-256 of the program (the multihash digest of its CID)
        bytes32 inputDigest; // sha2-256 of the input
        uint96 bounty; // escrowed now; fees come out of it
        uint96 collateral; // locked from each assigned operator; also the challenge bond
        uint32 assignDeadline; // last second the coordinator may assign
        uint32 commitDeadline; // last second to commit (Replicated) or submit (others)
        uint32 revealDeadline; // last second to reveal (Replicated only, else 0)
        uint32 challengeWindow; // seconds a submitted result can be challenged (Optimistic only)
        bytes32 verifierId; // result verifier (ZkProof only, else 0)
    }

    struct Task {
        // slot 0
        address client;
        Mode mode;
        Status status;
        uint8 replication;
        uint8 quorum;
        uint16 protocolFeeBps; // snapshotted at creation
        uint16 schedulerFeeBps; // snapshotted at creation
        uint32 assignDeadline;
        // slot 1
        uint96 bounty;
        uint96 collateral;
        uint32 commitDeadline;
        uint32 revealDeadline;
        // slot 2
        address assigner; // coordinator that assigned; earns the scheduler fee
        uint32 challengeWindow;
        uint32 submittedAt;
        uint8 commits;
        uint8 reveals;
        uint8 declined;
        // slot 3..
        bytes32 programDigest;
        bytes32 inputDigest;
        bytes32 result;
        address verifier; // snapshot of the verifier for ZkProof tasks
    }

    struct SeatState {
        Seat seat;
        uint64 commitBlock;
        bytes32 commitment;
        bytes32 digest;
    }

    struct Dispute {
        address challenger;
        uint64 challengeBlock;
        uint32 voteDeadline;
        uint8 agree;
        uint8 disagree;
        bool drawn;
        address[] committee;
    }

    // ---------------------------------------------------------------- errors

    error ZeroAddress();
    error ZeroAmount();
    error ZeroDigest();
    error FeeTooHigh(uint256 bps, uint256 cap);
    error ParameterOutOfRange(uint256 value, uint256 min, uint256 max);
    error InvalidReplication(uint8 replication, uint8 quorum);
    error DeadlineInPast(uint256 deadline, uint256 nowTs);
    error DeadlinesOutOfOrder();
    error TaskTooLong(uint256 duration, uint256 max);
    error InvalidChallengeWindow(uint256 window);
    error UnexpectedVerifier(bytes32 verifierId);
    error NotCoordinator(address caller);
    error NotClient(address caller);
    error UnknownTask(uint256 taskId);
    error WrongStatus(uint256 taskId, Status status);
    error WrongMode(uint256 taskId, Mode mode);
    error WrongOperatorCount(uint256 given, uint256 expected);
    error DuplicateOperator(address operator);
    error AssignDeadlinePassed(uint256 taskId, uint256 deadline);
    error NotAssigned(uint256 taskId, address operator);
    error AlreadyCommitted(uint256 taskId, address operator);
    error ZeroCommitment();
    error CommitDeadlinePassed(uint256 taskId, uint256 deadline);
    error NotCommitted(uint256 taskId, address operator);
    error AlreadyRevealed(uint256 taskId, address operator);
    error RevealTooEarly(uint256 taskId, uint256 commitBlock);
    error CommitPhaseOpen(uint256 taskId);
    error RevealDeadlinePassed(uint256 taskId, uint256 deadline);
    error CommitmentMismatch(uint256 taskId, address operator);
    error TooEarly(uint256 taskId, uint256 notBefore);
    error ChallengeWindowClosed(uint256 taskId, uint256 closedAt);
    error SelfChallenge(uint256 taskId);
    error CommitteeAlreadyDrawn(uint256 taskId);
    error SeedNotReady(uint256 taskId, uint256 seedBlock);
    error VotingClosed(uint256 taskId, uint256 deadline);
    error NotCommitteeMember(uint256 taskId, address caller);
    error AlreadyVoted(uint256 taskId, address member);
    error InvalidProof(uint256 taskId);
    error NothingToWithdraw(address account);

    // ---------------------------------------------------------------- events

    event TaskCreated(uint256 indexed taskId, address indexed client, TaskRequest request, uint16 protocolFeeBps, uint16 schedulerFeeBps);
    event TaskAssigned(uint256 indexed taskId, address indexed assigner, address[] operators);
    event Committed(uint256 indexed taskId, address indexed operator, bytes32 commitment);
    event Revealed(uint256 indexed taskId, address indexed operator, bytes32 resultDigest);
    event Declined(uint256 indexed taskId, address indexed operator);
    event ResultSubmitted(uint256 indexed taskId, address indexed operator, bytes32 resultDigest, uint256 challengeEnds);
    event Challenged(uint256 indexed taskId, address indexed challenger, uint256 bond, uint256 voteDeadline);
    event CommitteeDrawn(uint256 indexed taskId, bytes32 seed, address[] committee);
    event Voted(uint256 indexed taskId, address indexed member, bytes32 resultDigest, bool agrees);
    event DisputeResolved(uint256 indexed taskId, bool operatorUpheld, uint8 agree, uint8 disagree);
    event OperatorSlashed(uint256 indexed taskId, address indexed operator, uint256 amount, SlashReason reason);
    event TaskFinalized(uint256 indexed taskId, bytes32 resultDigest, uint256 winners, uint256 rewardEach, uint256 protocolFee, uint256 schedulerFee);
    event TaskRefunded(uint256 indexed taskId, RefundReason reason, uint256 amount);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event CoordinatorSet(address indexed coordinator, bool allowed);
    event FeesSet(uint16 protocolFeeBps, uint16 schedulerFeeBps);
    event TreasurySet(address indexed treasury);
    event DisputeParamsSet(uint8 committeeSize, uint32 disputeWindow);

    // ---------------------------------------------------------------- constants and state

    uint16 public constant MAX_FEE_BPS = 1_000; // each fee is at most 10% of the bounty
    uint8 public constant MAX_REPLICATION = 16;
    uint8 public constant MAX_COMMITTEE = 15;
    uint32 public constant MAX_TASK_DURATION = 30 days;
    uint32 public constant MAX_CHALLENGE_WINDOW = 7 days;
    uint32 public constant MIN_DISPUTE_WINDOW = 60;
    uint32 public constant MAX_DISPUTE_WINDOW = 7 days;
    /// @notice Committee draws try at most this many random registry slots per seat.
    uint256 public constant DRAW_TRIES_PER_SEAT = 8;

    IERC20 public immutable token;
    NodeRegistry public immutable registry;
    VerifierRegistry public immutable verifiers;

    address public treasury;
    uint16 public protocolFeeBps;
    uint16 public schedulerFeeBps;
    uint8 public committeeSize;
    uint32 public disputeWindow;

    uint256 public taskCount;
    /// @notice Sum of bounties of tasks not yet settled.
    uint256 public escrowed;
    /// @notice Sum of challenge bonds not yet settled.
    uint256 public bonded;
    /// @notice Sum of all withdrawable balances.
    uint256 public totalCredited;

    mapping(address => bool) public isCoordinator;
    mapping(address => uint256) public balanceOf;
    mapping(uint256 => Task) private tasks;
    /// Assigned operators by seat index (`replication` of them; no length slot to pay for).
    mapping(uint256 => mapping(uint256 => address)) private seatOperator;
    mapping(uint256 => mapping(address => SeatState)) private seats;
    mapping(uint256 => Dispute) private disputes;
    mapping(uint256 => mapping(address => bool)) private voted;

    modifier onlyCoordinator() {
        if (!isCoordinator[msg.sender]) revert NotCoordinator(msg.sender);
        _;
    }

    constructor(
        address owner_,
        IERC20 token_,
        NodeRegistry registry_,
        VerifierRegistry verifiers_,
        address treasury_,
        uint16 protocolFeeBps_,
        uint16 schedulerFeeBps_,
        uint8 committeeSize_,
        uint32 disputeWindow_
    ) Ownable(owner_) {
        if (
            address(token_) == address(0) || address(registry_) == address(0)
                || address(verifiers_) == address(0)
        ) revert ZeroAddress();
        token = token_;
        registry = registry_;
        verifiers = verifiers_;
        _setTreasury(treasury_);
        _setFees(protocolFeeBps_, schedulerFeeBps_);
        _setDisputeParams(committeeSize_, disputeWindow_);
    }

    // ---------------------------------------------------------------- governance

    function setCoordinator(address coordinator, bool allowed) external onlyOwner {
        if (coordinator == address(0)) revert ZeroAddress();
        isCoordinator[coordinator] = allowed;
        emit CoordinatorSet(coordinator, allowed);
    }

    /// @notice New fees apply to tasks created afterwards; each task keeps its snapshot.
    function setFees(uint16 protocolBps, uint16 schedulerBps) external onlyOwner {
        _setFees(protocolBps, schedulerBps);
    }

    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    function setDisputeParams(uint8 size, uint32 window) external onlyOwner {
        _setDisputeParams(size, window);
    }

    // ---------------------------------------------------------------- clients

    /// @notice Escrows `request.bounty` from the caller and opens a task.
    function createTask(TaskRequest calldata request) external nonReentrant returns (uint256 taskId) {
        address verifier = _validate(request);
        taskId = ++taskCount;
        Task storage t = tasks[taskId];
        t.client = msg.sender;
        t.mode = request.mode;
        t.status = Status.Open;
        t.replication = request.replication;
        t.quorum = request.quorum;
        t.protocolFeeBps = protocolFeeBps;
        t.schedulerFeeBps = schedulerFeeBps;
        t.assignDeadline = request.assignDeadline;
        t.bounty = request.bounty;
        t.collateral = request.collateral;
        t.commitDeadline = request.commitDeadline;
        t.revealDeadline = request.revealDeadline;
        t.challengeWindow = request.challengeWindow;
        t.programDigest = request.programDigest;
        t.inputDigest = request.inputDigest;
        if (verifier != address(0)) t.verifier = verifier;
        escrowed += request.bounty;
        token.safeTransferFrom(msg.sender, address(this), request.bounty);
        emit TaskCreated(taskId, msg.sender, request, t.protocolFeeBps, t.schedulerFeeBps);
    }

    /// @notice The client takes back the bounty of a task nobody was assigned to yet.
    function cancel(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (msg.sender != t.client) revert NotClient(msg.sender);
        _expectStatus(taskId, t, Status.Open);
        _refund(taskId, t, RefundReason.Cancelled);
    }

    // ---------------------------------------------------------------- coordinator

    /// @notice Assigns `operators` (exactly `replication` distinct addresses) and locks each
    ///         one's collateral in the registry.
    function assign(uint256 taskId, address[] calldata operators) external onlyCoordinator {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Open);
        if (block.timestamp > t.assignDeadline) revert AssignDeadlinePassed(taskId, t.assignDeadline);
        if (operators.length != t.replication) revert WrongOperatorCount(operators.length, t.replication);
        for (uint256 i = 0; i < operators.length; ++i) {
            address op = operators[i];
            if (op == address(0)) revert ZeroAddress();
            SeatState storage s = seats[taskId][op];
            if (s.seat != Seat.None) revert DuplicateOperator(op);
            s.seat = Seat.Assigned;
            seatOperator[taskId][i] = op;
            registry.lockCollateral(op, t.collateral);
        }
        t.status = Status.Assigned;
        t.assigner = msg.sender;
        emit TaskAssigned(taskId, msg.sender, operators);
    }

    // ---------------------------------------------------------------- operators

    /// @notice Replicated: commit H(chainid, market, taskId, operator, resultDigest, salt).
    function commit(uint256 taskId, bytes32 commitment) external {
        Task storage t = _task(taskId);
        _expectMode(taskId, t, Mode.Replicated);
        _expectStatus(taskId, t, Status.Assigned);
        SeatState storage s = seats[taskId][msg.sender];
        if (s.seat == Seat.None || s.seat == Seat.Declined) revert NotAssigned(taskId, msg.sender);
        if (s.seat != Seat.Assigned) revert AlreadyCommitted(taskId, msg.sender);
        if (commitment == bytes32(0)) revert ZeroCommitment();
        if (block.timestamp > t.commitDeadline) revert CommitDeadlinePassed(taskId, t.commitDeadline);
        s.seat = Seat.Committed;
        s.commitment = commitment;
        s.commitBlock = uint64(block.number);
        t.commits += 1;
        emit Committed(taskId, msg.sender, commitment);
    }

    /// @notice Replicated: open a commitment. Allowed once every active seat has committed or
    ///         the commit deadline has passed, and never in the block of one's own commit.
    function reveal(uint256 taskId, bytes32 resultDigest, bytes32 salt) external {
        Task storage t = _task(taskId);
        _expectMode(taskId, t, Mode.Replicated);
        _expectStatus(taskId, t, Status.Assigned);
        SeatState storage s = seats[taskId][msg.sender];
        if (s.seat == Seat.Revealed) revert AlreadyRevealed(taskId, msg.sender);
        if (s.seat != Seat.Committed) revert NotCommitted(taskId, msg.sender);
        if (block.number <= s.commitBlock) revert RevealTooEarly(taskId, s.commitBlock);
        if (t.commits + t.declined < t.replication && block.timestamp <= t.commitDeadline) {
            revert CommitPhaseOpen(taskId);
        }
        if (block.timestamp > t.revealDeadline) revert RevealDeadlinePassed(taskId, t.revealDeadline);
        if (commitmentOf(taskId, msg.sender, resultDigest, salt) != s.commitment) {
            revert CommitmentMismatch(taskId, msg.sender);
        }
        s.seat = Seat.Revealed;
        s.digest = resultDigest;
        t.reveals += 1;
        emit Revealed(taskId, msg.sender, resultDigest);
    }

    /// @notice An assigned operator that cannot do the work (for example, the input is not
    ///         available) gives its seat back before committing or submitting. Its collateral is
    ///         released, the registry counts a failure, and nobody is slashed. If no seat is left
    ///         the client is refunded.
    function decline(uint256 taskId) external {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Assigned);
        SeatState storage s = seats[taskId][msg.sender];
        if (s.seat != Seat.Assigned) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.commitDeadline) revert CommitDeadlinePassed(taskId, t.commitDeadline);
        s.seat = Seat.Declined;
        t.declined += 1;
        registry.releaseCollateral(msg.sender, t.collateral, false);
        emit Declined(taskId, msg.sender);
        if (t.declined == t.replication) _refund(taskId, t, RefundReason.NoSubmission);
    }

    /// @notice Optimistic: post the result; the challenge window starts now.
    function submitResult(uint256 taskId, bytes32 resultDigest) external {
        Task storage t = _task(taskId);
        _expectMode(taskId, t, Mode.Optimistic);
        _expectStatus(taskId, t, Status.Assigned);
        if (seats[taskId][msg.sender].seat != Seat.Assigned) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.commitDeadline) revert CommitDeadlinePassed(taskId, t.commitDeadline);
        if (resultDigest == bytes32(0)) revert ZeroDigest();
        t.status = Status.Submitted;
        t.result = resultDigest;
        t.submittedAt = uint32(block.timestamp);
        emit ResultSubmitted(taskId, msg.sender, resultDigest, block.timestamp + t.challengeWindow);
    }

    /// @notice ZkProof: post the result with a proof; a valid proof settles and pays at once.
    function submitProof(uint256 taskId, bytes32 resultDigest, bytes calldata proof) external {
        Task storage t = _task(taskId);
        _expectMode(taskId, t, Mode.ZkProof);
        _expectStatus(taskId, t, Status.Assigned);
        if (seats[taskId][msg.sender].seat != Seat.Assigned) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.commitDeadline) revert CommitDeadlinePassed(taskId, t.commitDeadline);
        if (resultDigest == bytes32(0)) revert ZeroDigest();
        bool ok = IResultVerifier(t.verifier).verifyResult(
            t.programDigest, t.inputDigest, resultDigest, bindingOf(taskId, msg.sender), proof
        );
        if (!ok) revert InvalidProof(taskId);
        t.result = resultDigest;
        address[] memory winners = new address[](1);
        winners[0] = msg.sender;
        _payWinners(taskId, t, winners, 1);
    }

    // ---------------------------------------------------------------- settlement (anyone)

    /// @notice Settles a task whose result phase is over:
    ///         Replicated, once every active seat revealed or the reveal deadline passed;
    ///         Optimistic, once the challenge window closed without a challenge.
    function finalize(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.mode == Mode.Replicated) {
            _expectStatus(taskId, t, Status.Assigned);
            if (t.reveals + t.declined < t.replication && block.timestamp <= t.revealDeadline) {
                revert TooEarly(taskId, uint256(t.revealDeadline) + 1);
            }
            _finalizeReplicated(taskId, t);
        } else if (t.mode == Mode.Optimistic) {
            _expectStatus(taskId, t, Status.Submitted);
            uint256 closes = uint256(t.submittedAt) + t.challengeWindow;
            if (block.timestamp <= closes) revert TooEarly(taskId, closes + 1);
            _payWinners(taskId, t, _soleOperator(taskId), 1);
        } else {
            revert WrongMode(taskId, t.mode);
        }
    }

    /// @notice The deadline exits: an unassigned task after its assignment deadline, or an
    ///         Optimistic/ZkProof task with no result after its submit deadline (the silent
    ///         operator is slashed). The client is refunded in both cases.
    function claimTimeout(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.status == Status.Open) {
            if (block.timestamp <= t.assignDeadline) revert TooEarly(taskId, uint256(t.assignDeadline) + 1);
            _refund(taskId, t, RefundReason.NotAssigned);
            return;
        }
        if (t.mode == Mode.Replicated) revert WrongMode(taskId, t.mode);
        _expectStatus(taskId, t, Status.Assigned);
        if (block.timestamp <= t.commitDeadline) revert TooEarly(taskId, uint256(t.commitDeadline) + 1);
        address op = seatOperator[taskId][0];
        _slash(taskId, t, op, SlashReason.Silent);
        _refund(taskId, t, RefundReason.NoSubmission);
    }

    // ---------------------------------------------------------------- optimistic disputes

    /// @notice Challenges a submitted result, posting a bond equal to the task's collateral.
    function challenge(uint256 taskId) external nonReentrant {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Submitted);
        uint256 closes = uint256(t.submittedAt) + t.challengeWindow;
        if (block.timestamp > closes) revert ChallengeWindowClosed(taskId, closes);
        if (msg.sender == seatOperator[taskId][0]) revert SelfChallenge(taskId);
        t.status = Status.Challenged;
        Dispute storage d = disputes[taskId];
        d.challenger = msg.sender;
        d.challengeBlock = uint64(block.number);
        uint256 deadline = block.timestamp + disputeWindow;
        d.voteDeadline = uint32(deadline);
        bonded += t.collateral;
        token.safeTransferFrom(msg.sender, address(this), t.collateral);
        emit Challenged(taskId, msg.sender, t.collateral, deadline);
    }

    /// @notice Draws the re-execution committee from the registry. The seed is the hash of the
    ///         block right after the challenge, which neither party knows when the challenge is
    ///         made (see docs/protocol.md for the assumption this rests on). Anyone may call it
    ///         from the second block after the challenge until the vote deadline.
    function drawCommittee(uint256 taskId) external {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Challenged);
        Dispute storage d = disputes[taskId];
        if (d.drawn) revert CommitteeAlreadyDrawn(taskId);
        if (block.timestamp > d.voteDeadline) revert VotingClosed(taskId, d.voteDeadline);
        uint256 seedBlock = uint256(d.challengeBlock) + 1;
        if (block.number <= seedBlock) revert SeedNotReady(taskId, seedBlock);
        bytes32 blockSeed = blockhash(seedBlock);
        // Past the 256-block horizon the seed block's hash is gone; fall back to the previous
        // block, which is weaker (the caller picks the moment) and documented as such.
        if (blockSeed == bytes32(0)) blockSeed = blockhash(block.number - 1);
        bytes32 seed = keccak256(abi.encode(blockSeed, taskId));
        d.drawn = true;
        address operator = seatOperator[taskId][0];
        uint256 n = registry.operatorCount();
        uint256 size = committeeSize;
        uint256 tries = size * DRAW_TRIES_PER_SEAT;
        for (uint256 i = 0; i < tries && d.committee.length < size && n > 0; ++i) {
            address candidate = registry.operatorList(uint256(keccak256(abi.encode(seed, i))) % n);
            if (candidate == operator || candidate == d.challenger || candidate == t.client) continue;
            if (!registry.isEligible(candidate) || _inCommittee(d, candidate)) continue;
            d.committee.push(candidate);
        }
        emit CommitteeDrawn(taskId, seed, d.committee);
    }

    /// @notice A committee member posts the digest it got by re-executing the task.
    function vote(uint256 taskId, bytes32 resultDigest) external {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Challenged);
        Dispute storage d = disputes[taskId];
        if (block.timestamp > d.voteDeadline) revert VotingClosed(taskId, d.voteDeadline);
        if (!_inCommittee(d, msg.sender)) revert NotCommitteeMember(taskId, msg.sender);
        if (voted[taskId][msg.sender]) revert AlreadyVoted(taskId, msg.sender);
        voted[taskId][msg.sender] = true;
        bool agrees = resultDigest == t.result;
        if (agrees) d.agree += 1;
        else d.disagree += 1;
        emit Voted(taskId, msg.sender, resultDigest, agrees);
    }

    /// @notice Settles a dispute once every member voted or the vote deadline passed.
    ///         A strict majority of the drawn committee against the result overturns it: the
    ///         operator's collateral and the bond go to the challenger, the client is refunded.
    ///         Otherwise the result stands (optimistic default): the operator is paid and also
    ///         receives the challenger's bond if a strict majority confirmed the result; with no
    ///         majority either way the bond is returned.
    function resolveDispute(uint256 taskId) external {
        Task storage t = _task(taskId);
        _expectStatus(taskId, t, Status.Challenged);
        Dispute storage d = disputes[taskId];
        uint256 size = d.committee.length;
        bool allVoted = d.drawn && d.agree + d.disagree == size;
        if (!allVoted && block.timestamp <= d.voteDeadline) revert TooEarly(taskId, uint256(d.voteDeadline) + 1);
        address operator = seatOperator[taskId][0];
        uint256 bond = t.collateral;
        bonded -= bond;
        bool overturned = size > 0 && uint256(d.disagree) * 2 > size;
        emit DisputeResolved(taskId, !overturned, d.agree, d.disagree);
        if (overturned) {
            _slashTo(taskId, t, operator, SlashReason.WrongResult, d.challenger);
            _credit(d.challenger, bond);
            _refund(taskId, t, RefundReason.ChallengeUpheld);
        } else {
            bool confirmed = size > 0 && uint256(d.agree) * 2 > size;
            _credit(confirmed ? operator : d.challenger, bond);
            _payWinners(taskId, t, _soleOperator(taskId), 1);
        }
    }

    // ---------------------------------------------------------------- withdrawals

    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        balanceOf[msg.sender] = 0;
        totalCredited -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    function getTask(uint256 taskId) external view returns (Task memory) {
        return tasks[taskId];
    }

    function operatorsOf(uint256 taskId) external view returns (address[] memory) {
        uint256 n = seatOperator[taskId][0] == address(0) ? 0 : tasks[taskId].replication;
        address[] memory ops = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            ops[i] = seatOperator[taskId][i];
        }
        return ops;
    }

    function seatOf(uint256 taskId, address operator) external view returns (SeatState memory) {
        return seats[taskId][operator];
    }

    function disputeOf(uint256 taskId) external view returns (Dispute memory) {
        return disputes[taskId];
    }

    function commitmentOf(uint256 taskId, address operator, bytes32 resultDigest, bytes32 salt)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), taskId, operator, resultDigest, salt));
    }

    function bindingOf(uint256 taskId, address operator) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), taskId, operator));
    }

    // ---------------------------------------------------------------- internals

    function _validate(TaskRequest calldata r) private view returns (address verifier) {
        if (r.bounty == 0) revert ZeroAmount();
        if (r.collateral == 0) revert ZeroAmount();
        if (r.programDigest == bytes32(0) || r.inputDigest == bytes32(0)) revert ZeroDigest();
        if (r.mode == Mode.Replicated) {
            if (r.replication == 0 || r.replication > MAX_REPLICATION || r.quorum > r.replication || uint256(r.quorum) * 2 <= r.replication) {
                revert InvalidReplication(r.replication, r.quorum);
            }
        } else if (r.replication != 1 || r.quorum != 1) {
            revert InvalidReplication(r.replication, r.quorum);
        }
        if (r.assignDeadline <= block.timestamp) revert DeadlineInPast(r.assignDeadline, block.timestamp);
        if (r.commitDeadline <= r.assignDeadline) revert DeadlinesOutOfOrder();
        uint256 last = r.commitDeadline;
        if (r.mode == Mode.Replicated) {
            if (r.revealDeadline <= r.commitDeadline) revert DeadlinesOutOfOrder();
            last = r.revealDeadline;
        } else if (r.revealDeadline != 0) {
            revert DeadlinesOutOfOrder();
        }
        if (last - block.timestamp > MAX_TASK_DURATION) revert TaskTooLong(last - block.timestamp, MAX_TASK_DURATION);
        if (r.mode == Mode.Optimistic) {
            if (r.challengeWindow == 0 || r.challengeWindow > MAX_CHALLENGE_WINDOW) revert InvalidChallengeWindow(r.challengeWindow);
        } else if (r.challengeWindow != 0) {
            revert InvalidChallengeWindow(r.challengeWindow);
        }
        if (r.mode == Mode.ZkProof) {
            verifier = verifiers.verifierOf(r.verifierId);
        } else if (r.verifierId != bytes32(0)) {
            revert UnexpectedVerifier(r.verifierId);
        }
    }

    function _finalizeReplicated(uint256 taskId, Task storage t) private {
        mapping(uint256 => address) storage ops = seatOperator[taskId];
        uint256 n = t.replication;
        // Find the digest with the most reveals.
        bytes32 best;
        uint256 bestCount;
        for (uint256 i = 0; i < n; ++i) {
            SeatState storage s = seats[taskId][ops[i]];
            if (s.seat != Seat.Revealed) continue;
            uint256 count;
            for (uint256 j = 0; j < n; ++j) {
                SeatState storage o = seats[taskId][ops[j]];
                if (o.seat == Seat.Revealed && o.digest == s.digest) ++count;
            }
            if (count > bestCount) {
                bestCount = count;
                best = s.digest;
            }
        }
        bool majority = bestCount >= t.quorum;
        address[] memory winners = new address[](majority ? bestCount : 0);
        uint256 w;
        for (uint256 i = 0; i < n; ++i) {
            address op = ops[i];
            SeatState storage s = seats[taskId][op];
            if (s.seat == Seat.Declined) continue;
            if (s.seat != Seat.Revealed) {
                _slash(taskId, t, op, SlashReason.Silent);
            } else if (!majority) {
                registry.releaseCollateral(op, t.collateral, false);
            } else if (s.digest == best) {
                winners[w++] = op;
            } else {
                _slash(taskId, t, op, SlashReason.Dissent);
            }
        }
        if (majority) {
            t.result = best;
            _payWinners(taskId, t, winners, bestCount);
        } else {
            _refund(taskId, t, RefundReason.NoMajority);
        }
    }

    /// @dev Splits the bounty: protocol fee to the treasury, scheduler fee to the assigner, the
    ///      rest equally to `winners` (first `count` entries), and the division remainder back to
    ///      the client. Releases the winners' collateral.
    function _payWinners(uint256 taskId, Task storage t, address[] memory winners, uint256 count) private {
        t.status = Status.Finalized;
        uint256 bounty = t.bounty;
        escrowed -= bounty;
        uint256 protocolFee = bounty * t.protocolFeeBps / 10_000;
        uint256 schedulerFee = bounty * t.schedulerFeeBps / 10_000;
        uint256 reward = bounty - protocolFee - schedulerFee;
        uint256 each = reward / count;
        uint256 dust = reward - each * count;
        for (uint256 i = 0; i < count; ++i) {
            registry.releaseCollateral(winners[i], t.collateral, true);
            _credit(winners[i], each);
        }
        _credit(treasury, protocolFee);
        _credit(t.assigner, schedulerFee);
        _credit(t.client, dust);
        emit TaskFinalized(taskId, t.result, count, each, protocolFee, schedulerFee);
    }

    function _refund(uint256 taskId, Task storage t, RefundReason reason) private {
        t.status = Status.Refunded;
        uint256 bounty = t.bounty;
        escrowed -= bounty;
        _credit(t.client, bounty);
        emit TaskRefunded(taskId, reason, bounty);
    }

    /// @dev Slashed collateral goes to the treasury: no party to the task profits from another's
    ///      slash, so none has a reason to provoke one.
    function _slash(uint256 taskId, Task storage t, address op, SlashReason reason) private {
        _slashTo(taskId, t, op, reason, treasury);
    }

    function _slashTo(uint256 taskId, Task storage t, address op, SlashReason reason, address to)
        private
        returns (uint256 amount)
    {
        amount = t.collateral;
        registry.slash(op, amount);
        _credit(to, amount);
        emit OperatorSlashed(taskId, op, amount, reason);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        balanceOf[account] += amount;
        totalCredited += amount;
        emit Credited(account, amount);
    }

    function _soleOperator(uint256 taskId) private view returns (address[] memory ops) {
        ops = new address[](1);
        ops[0] = seatOperator[taskId][0];
    }

    function _inCommittee(Dispute storage d, address who) private view returns (bool) {
        for (uint256 i = 0; i < d.committee.length; ++i) {
            if (d.committee[i] == who) return true;
        }
        return false;
    }

    function _task(uint256 taskId) private view returns (Task storage t) {
        t = tasks[taskId];
        if (t.status == Status.None) revert UnknownTask(taskId);
    }

    function _expectStatus(uint256 taskId, Task storage t, Status s) private view {
        if (t.status != s) revert WrongStatus(taskId, t.status);
    }

    function _expectMode(uint256 taskId, Task storage t, Mode m) private view {
        if (t.mode != m) revert WrongMode(taskId, t.mode);
    }

    function _setFees(uint16 protocolBps, uint16 schedulerBps) private {
        if (protocolBps > MAX_FEE_BPS) revert FeeTooHigh(protocolBps, MAX_FEE_BPS);
        if (schedulerBps > MAX_FEE_BPS) revert FeeTooHigh(schedulerBps, MAX_FEE_BPS);
        protocolFeeBps = protocolBps;
        schedulerFeeBps = schedulerBps;
        emit FeesSet(protocolBps, schedulerBps);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function _setDisputeParams(uint8 size, uint32 window) private {
        if (size == 0 || size > MAX_COMMITTEE) revert ParameterOutOfRange(size, 1, MAX_COMMITTEE);
        if (window < MIN_DISPUTE_WINDOW || window > MAX_DISPUTE_WINDOW) {
            revert ParameterOutOfRange(window, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        }
        committeeSize = size;
        disputeWindow = window;
        emit DisputeParamsSet(size, window);
    }
}
