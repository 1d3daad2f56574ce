// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {NodeRegistry} from "./NodeRegistry.sol";
import {DisputeCourt} from "./DisputeCourt.sol";
import {VerifierRegistry} from "./VerifierRegistry.sol";
import {IResultVerifier} from "./interfaces/IResultVerifier.sol";
import {ICollateralLedger} from "./interfaces/ICollateralLedger.sol";

/// @title TaskMarket
/// @notice Escrowed compute tasks, verified by replication (commit-reveal, k of n), by optimistic
///         execution with bonded challenges decided by the `DisputeCourt`, or by a proof checked by
///         a registered verifier. See docs/protocol.md for the state machine and every deadline.
///
/// Storage: a task is ONE slot, `tasks[taskId]` = status (top byte) | replicated seats that
/// committed or declined (next byte, so a reveal knows whether the commit phase is over without
/// reading every seat) | the low 240 bits of
/// keccak256(abi.encode(Task)). `Task` holds the immutable request, its fee and verifier
/// snapshots, and what the task remembers about its assignment and optimistic result. Every call
/// carries the `Task` in calldata; the market recomputes the hash and rejects a mismatch with
/// `TaskMismatch`. Off-chain actors rebuild the `Task` from events alone: `TaskCreated` (request,
/// client, fees, verifier), `TaskAssigned` (assigner, operators), `ResultSubmitted` (digest,
/// submittedAt). A replicated seat is one more slot: its commitment (bound to the commit block)
/// and, after the reveal, its digest. Commits and reveals never change the task hash (a commit
/// only counts itself in the task word), so the `Task` operators carry never goes stale.
///
/// Money: every token this contract holds is in exactly one of: a task's escrowed bounty
/// (`escrowed`), a challenger's bond (`bonded`), an account's withdrawable balance, or the
/// treasury's accrued fees and slashes (`treasuryAccrued`, kept in the same slot as `escrowed` so
/// settling a task does not touch the treasury's balance slot; `balanceOf(treasury)` includes it).
/// Clients may `deposit` ahead; `createTask` then debits the balance instead of pulling tokens.
/// Payouts, refunds, fees and slashed collateral are credited and pulled with `withdraw`. No path
/// needs the coordinator: every deadline has a permissionless exit.
///
/// Collateral: `assign` locks each operator's collateral in the registry (one call per
/// operator). Paying a winner releases its collateral here, in the same write that credits its
/// reward: an account's word holds its withdrawable balance, the collateral released for it
/// (modulo 2^96) and the tasks it was paid for, and the registry subtracts that count from its
/// own lock total (`collateralOf`). Releases without payment (decline, failover, no majority)
/// and slashes call the registry.
contract TaskMarket is Ownable2Step, ReentrancyGuardTransient, ICollateralLedger {
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
        Challenged, // optimistic: a bonded challenge or an audit awaits the committee
        Finalized, // paid out (terminal)
        Refunded // bounty returned to the client (terminal)
    }

    enum RefundReason {
        Cancelled,
        NotAssigned,
        NoSubmission,
        NoMajority,
        ChallengeUpheld,
        NoVerdict // a dispute neither the committee nor the arbiter decided: nobody slashed, bond returned
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
        uint16 auditBps; // Optimistic: chance in basis points that the result is audited (else 0)
    }

    /// @notice Everything a task remembers, carried in calldata and checked against its slot.
    ///         Fields after `verifier` are zero until the transition that sets them.
    struct Task {
        TaskRequest request;
        address client;
        uint16 protocolFeeBps; // snapshotted at creation
        uint16 schedulerFeeBps; // snapshotted at creation
        address verifier; // snapshot of the verifier for ZkProof tasks, else 0
        address assigner; // coordinator that assigned; earns the scheduler fee
        address[] operators; // assigned operators, by seat
        uint32 submittedAt; // optimistic: when the result was posted
        bytes32 result; // optimistic: the posted digest
    }

    /// @dev The market's books in one slot, so a task's creation and settlement each update them
    ///      with a single write. `createTask` checks `escrowed` cannot overflow; accruals that
    ///      would overflow are moved to the treasury's balance instead.
    struct Books {
        uint112 escrowed; // sum of bounties of unsettled tasks
        uint112 treasuryAccrued; // protocol fees and slashed collateral owed to the treasury
        uint32 taskCount; // tasks ever created (ids are 1..taskCount)
    }

    // ---------------------------------------------------------------- errors

    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
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
    error TaskMismatch(uint256 taskId);
    error TooManyTasks();
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
    error RevealMismatch(uint256 taskId, uint256 seat);
    error TooEarly(uint256 taskId, uint256 notBefore);
    error ChallengeWindowClosed(uint256 taskId, uint256 closedAt);
    error SelfChallenge(uint256 taskId);
    error InvalidProof(uint256 taskId);
    error NothingToWithdraw(address account);
    error SeatOutOfRange(uint256 taskId, uint256 seat, uint256 seats);
    error RevealPhaseStarted(uint256 taskId);
    error EmptyBatch();
    error BatchLengthMismatch(uint256 taskIds, uint256 tasks, uint256 operators);
    error BatchTooLarge(uint256 length, uint256 max);
    error WindowTooShort(uint256 window, uint256 minimum);
    error ResponseWindowTooShort(uint256 taskId, uint256 left, uint256 minimum);
    error NotSelf(address caller);
    error TermsChanged(uint256 protocolFeeBps, uint256 schedulerFeeBps, address verifier);
    error InvalidAuditRate(uint256 auditBps);
    error CollateralTooLow(uint256 collateral, uint256 floor);
    error CoinNotReady(uint256 taskId, uint256 notBefore);
    error AuditRolled(uint256 taskId);

    // ---------------------------------------------------------------- events

    event TaskCreated(
        uint256 indexed taskId,
        address indexed client,
        TaskRequest request,
        uint16 protocolFeeBps,
        uint16 schedulerFeeBps,
        address verifier,
        bool fromBalance
    );
    event TaskAssigned(uint256 indexed taskId, address indexed assigner, address[] operators);
    event Reassigned(uint256 indexed taskId, uint256 seat, address indexed from, address indexed to);
    event Committed(uint256 indexed taskId, address indexed operator, bytes32 commitment);
    event Revealed(uint256 indexed taskId, address indexed operator, bytes32 resultDigest);
    event Declined(uint256 indexed taskId, address indexed operator);
    event ResultSubmitted(uint256 indexed taskId, address indexed operator, bytes32 resultDigest, uint256 challengeEnds);
    event Challenged(uint256 indexed taskId, address indexed challenger, uint256 bond);
    event AssignSkipped(uint256 indexed taskId, bytes reason);
    event DisputeResolved(uint256 indexed taskId, uint8 verdict);
    /// @notice The audit coin of an optimistic result was read: `audited` opened its case in the
    ///         court (a `Challenged` event with no challenger follows).
    event AuditDrawn(uint256 indexed taskId, bool audited);
    event OperatorSlashed(uint256 indexed taskId, address indexed operator, uint256 amount, SlashReason reason);
    event TaskFinalized(uint256 indexed taskId, bytes32 resultDigest, uint256 winners, uint256 rewardEach, uint256 protocolFee, uint256 schedulerFee);
    event TaskRefunded(uint256 indexed taskId, RefundReason reason, uint256 amount);
    event Deposited(address indexed account, uint256 amount);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event CoordinatorSet(address indexed coordinator, bool allowed);
    event FeesSet(uint16 protocolFeeBps, uint16 schedulerFeeBps);
    event TreasurySet(address indexed treasury);

    // ---------------------------------------------------------------- constants and state

    uint16 public constant MAX_FEE_BPS = 1_000; // each fee is at most 10% of the bounty
    uint8 public constant MAX_REPLICATION = 16;
    /// @notice Fewest seats of a replicated task: with two, one colluding seat could void an
    ///         honest result for free.
    uint8 public constant MIN_REPLICATION = 3;
    uint32 public constant MAX_TASK_DURATION = 30 days;
    uint32 public constant MAX_CHALLENGE_WINDOW = 7 days;
    /// @notice Most tasks one `assignBatch` assigns (bounds its gas: 32 tasks of 16 seats each
    ///         stay well under a 30M block).
    uint256 public constant MAX_ASSIGN_BATCH = 32;
    /// @notice A challenger that overturns a result gets its bond back plus this share of the
    ///         slashed collateral; the rest goes to the treasury. Below 100 % so that challenging
    ///         one's own wrong result from a second address always loses money (docs/protocol.md).
    uint16 public constant CHALLENGE_REWARD_BPS = 2_000;
    /// @notice Share of what the losing side of a decided dispute forfeits (the slashed
    ///         collateral, or the challenger's bond) that pays the committee members who voted
    ///         with the verdict (`DisputeCourt`).
    uint16 public constant COMMITTEE_SHARE_BPS = 1_000;
    /// @notice Share of the collateral a seat forfeits to the treasury when it declines, so
    ///         holding seats and declining them is not a free delay.
    uint16 public constant DECLINE_FEE_BPS = 200;
    /// @notice Share of the bounty of an audited task whose result stands that pays the
    ///         auditors (the committee that re-executed it); the operator gets the rest.
    uint16 public constant AUDIT_FEE_BPS = 1_000;
    /// @notice Bounds of the window minimums fixed at deployment.
    uint32 public constant MIN_WINDOW_FLOOR = 2;
    uint32 public constant MAX_WINDOW_MINIMUM = 1 days;

    /// @dev Seat words: 0 = assigned, nothing posted; DECLINED; a committed word (bit 255 clear,
    ///      bit 1 set); a revealed word (bit 255 set).
    uint256 private constant DECLINED = 1;
    uint256 private constant REVEALED_BIT = 1 << 255;
    /// @dev Task words: status (bits 248..255), replicated seats that posted (committed or
    ///      declined; bits 240..247, at most MAX_REPLICATION) or, optimistic, the audit coin
    ///      read as "not audited" (bit 240), the block an optimistic result was submitted in
    ///      (bits 208..239), the task hash (bits 0..207).
    uint256 private constant HASH_MASK = (1 << 208) - 1;
    uint256 private constant POSTED_ONE = 1 << 240;
    uint256 private constant CLEARED = 1 << 240;
    uint256 private constant SUBMIT_BLOCK_SHIFT = 208;
    /// @dev Account words: withdrawable balance (bits 0..127), collateral released for the
    ///      account by paying it (bits 128..223, modulo 2^96), tasks paid (bits 224..255).
    uint256 private constant BALANCE_MASK = (1 << 128) - 1;
    uint256 private constant RELEASED_MASK = (1 << 96) - 1;

    IERC20 public immutable token;
    NodeRegistry public immutable registry;
    VerifierRegistry public immutable verifiers;
    /// @notice The `DisputeCourt` that decides challenged results.
    address public immutable court;
    /// @notice Least time an operator is given between being seated (`assign`, `reassign`)
    ///         and its commit or submit deadline. `createTask` requires
    ///         `commitDeadline - assignDeadline` to be at least this, and `reassign` refuses a
    ///         seat with less left: nobody can be seated too late to answer and then slashed.
    uint32 public immutable minResponseWindow;
    /// @notice Least `revealDeadline - commitDeadline` of a replicated task, so committed seats
    ///         always have blocks to reveal in.
    uint32 public immutable minRevealWindow;
    /// @notice Least audit rate (basis points) an optimistic task may ask for, fixed at
    ///         deployment. Production deployments use at least 1 %; zero, which lets a task go
    ///         unaudited with no collateral floor, is for test deployments only (the deploy
    ///         tooling refuses it on any chain but the devnet's).
    uint16 public immutable minAuditBps;

    address public treasury;
    uint16 public protocolFeeBps;
    uint16 public schedulerFeeBps;

    Books private books;
    /// @notice Sum of challenge bonds not yet settled.
    uint256 public bonded;

    mapping(address => bool) public isCoordinator;
    /// Account words (see BALANCE_MASK).
    mapping(address => uint256) private accounts;
    /// Status (top byte), posted seats (next byte) and task hash (low 240 bits) per task.
    mapping(uint256 => uint256) private tasks;
    /// Replicated seat words by task and seat index.
    mapping(uint256 => mapping(uint256 => uint256)) private seats;
    /// @notice The challenger of each challenged task (until it is settled).
    mapping(uint256 => address) public challengerOf;

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
        address court_,
        uint32 minResponseWindow_,
        uint32 minRevealWindow_,
        uint16 minAuditBps_
    ) Ownable(owner_) {
        if (
            address(token_) == address(0) || address(registry_) == address(0)
                || address(verifiers_) == address(0) || court_ == address(0)
        ) revert ZeroAddress();
        if (minResponseWindow_ < MIN_WINDOW_FLOOR || minResponseWindow_ > MAX_WINDOW_MINIMUM) {
            revert ParameterOutOfRange(minResponseWindow_, MIN_WINDOW_FLOOR, MAX_WINDOW_MINIMUM);
        }
        if (minRevealWindow_ < MIN_WINDOW_FLOOR || minRevealWindow_ > MAX_WINDOW_MINIMUM) {
            revert ParameterOutOfRange(minRevealWindow_, MIN_WINDOW_FLOOR, MAX_WINDOW_MINIMUM);
        }
        minResponseWindow = minResponseWindow_;
        minRevealWindow = minRevealWindow_;
        if (minAuditBps_ > 10_000) revert InvalidAuditRate(minAuditBps_);
        minAuditBps = minAuditBps_;
        token = token_;
        registry = registry_;
        verifiers = verifiers_;
        court = court_;
        _setTreasury(treasury_);
        _setFees(protocolFeeBps_, schedulerFeeBps_);
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

    /// @notice What accrued to the old treasury stays its balance.
    function setTreasury(address treasury_) external onlyOwner {
        Books memory b = books;
        if (b.treasuryAccrued != 0) {
            _addBalance(treasury, b.treasuryAccrued);
            b.treasuryAccrued = 0;
            books = b;
        }
        _setTreasury(treasury_);
    }

    // ---------------------------------------------------------------- clients

    /// @notice Adds `amount` to the caller's balance, so later tasks are paid from it.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _addBalance(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, amount);
    }

    /// @notice Opens a task. The bounty comes from the caller's balance if it covers it, else it
    ///         is pulled with `transferFrom` (the market must be approved). The client states the
    ///         terms it accepts: the highest fees, and the verifier it expects for a ZkProof task
    ///         (zero otherwise); if governance changed them before the call landed, it reverts
    ///         `TermsChanged` instead of locking the client into terms it never saw.
    function createTask(
        TaskRequest calldata request,
        uint16 maxProtocolFeeBps,
        uint16 maxSchedulerFeeBps,
        address expectedVerifier
    ) external nonReentrant returns (uint256 taskId) {
        address verifier = _validate(request);
        if (protocolFeeBps > maxProtocolFeeBps || schedulerFeeBps > maxSchedulerFeeBps || verifier != expectedVerifier) {
            revert TermsChanged(protocolFeeBps, schedulerFeeBps, verifier);
        }
        Books memory b = books;
        uint256 bounty = request.bounty;
        if (bounty > type(uint112).max - b.escrowed) revert AmountTooLarge(bounty);
        if (b.taskCount == type(uint32).max) revert TooManyTasks();
        taskId = uint256(b.taskCount) + 1;
        b.taskCount = uint32(taskId);
        b.escrowed += uint112(bounty);
        books = b;
        uint256 account = accounts[msg.sender];
        bool fromBalance = account & BALANCE_MASK >= bounty;
        if (fromBalance) accounts[msg.sender] = account - bounty;
        uint16 pf = protocolFeeBps;
        uint16 sf = schedulerFeeBps;
        tasks[taskId] = _word(Status.Open, _hashNew(request, pf, sf, verifier));
        if (!fromBalance) token.safeTransferFrom(msg.sender, address(this), bounty);
        emit TaskCreated(taskId, msg.sender, request, pf, sf, verifier, fromBalance);
    }

    /// @notice The client takes back the bounty of a task nobody was assigned to yet.
    function cancel(uint256 taskId, Task calldata t) external {
        Status s = _load(taskId, t);
        if (msg.sender != t.client) revert NotClient(msg.sender);
        _expectStatus(taskId, s, Status.Open);
        _refund(taskId, t, RefundReason.Cancelled, 0);
    }

    // ---------------------------------------------------------------- coordinator

    /// @notice Assigns `operators` (exactly `replication` distinct addresses) and locks each
    ///         one's collateral in the registry.
    function assign(uint256 taskId, Task calldata t, address[] calldata operators) external onlyCoordinator {
        _assign(msg.sender, taskId, t, operators);
    }

    /// @notice `assign` for up to `MAX_ASSIGN_BATCH` tasks in one transaction: task `i` is
    ///         `taskIds[i]` with `ts[i]`, assigned `operators[i]`, each checked exactly as
    ///         `assign` checks it. An entry that cannot be assigned is skipped with
    ///         `AssignSkipped(taskId, revert data)` and the others still are, so one stale or
    ///         hostile entry cannot hold a whole batch up.
    function assignBatch(uint256[] calldata taskIds, Task[] calldata ts, address[][] calldata operators)
        external
        onlyCoordinator
    {
        uint256 n = taskIds.length;
        if (n == 0) revert EmptyBatch();
        if (ts.length != n || operators.length != n) revert BatchLengthMismatch(n, ts.length, operators.length);
        if (n > MAX_ASSIGN_BATCH) revert BatchTooLarge(n, MAX_ASSIGN_BATCH);
        for (uint256 i = 0; i < n; ++i) {
            try this.assignFromBatch(msg.sender, taskIds[i], ts[i], operators[i]) {}
            catch (bytes memory reason) {
                emit AssignSkipped(taskIds[i], reason);
            }
        }
    }

    /// @notice One entry of `assignBatch`, called by the market itself so that a failing entry
    ///         reverts alone. Nobody else may call it.
    function assignFromBatch(address assigner, uint256 taskId, Task calldata t, address[] calldata operators)
        external
    {
        if (msg.sender != address(this)) revert NotSelf(msg.sender);
        _assign(assigner, taskId, t, operators);
    }

    /// @notice Failover: gives seat `seat` of an assigned task to `replacement` before anything
    ///         was posted from it (replicated: the seat has not committed, or it declined;
    ///         optimistic and zk: no result yet), up to the commit deadline. The replacement's
    ///         collateral is locked; the replaced operator's is released without a slash and the
    ///         registry counts a failure (it did not do the task; a seat that declined was
    ///         released and counted when it declined). A declined seat cannot be reassigned once
    ///         any seat revealed, so a replacement never commits after seeing a revealed digest.
    ///         Later calls carry the `Task` with `operators[seat] = replacement` (`Reassigned`).
    function reassign(uint256 taskId, Task calldata t, uint256 seat, address replacement) external onlyCoordinator {
        _expectStatus(taskId, _load(taskId, t), Status.Assigned);
        uint256 n = t.operators.length;
        if (seat >= n) revert SeatOutOfRange(taskId, seat, n);
        if (block.timestamp > t.request.commitDeadline) revert CommitDeadlinePassed(taskId, t.request.commitDeadline);
        uint256 left = uint256(t.request.commitDeadline) - block.timestamp;
        if (left < minResponseWindow) revert ResponseWindowTooShort(taskId, left, minResponseWindow);
        if (replacement == address(0)) revert ZeroAddress();
        (bool seated,) = _findSeat(t, replacement);
        if (seated) revert DuplicateOperator(replacement);
        address from = t.operators[seat];
        uint256 w = t.request.mode == Mode.Replicated ? seats[taskId][seat] : 0;
        uint256 posted = _posted(taskId);
        if (w == DECLINED) {
            for (uint256 j = 0; j < n; ++j) {
                if (seats[taskId][j] & REVEALED_BIT != 0) revert RevealPhaseStarted(taskId);
            }
            delete seats[taskId][seat];
            --posted;
        } else if (w != 0) {
            revert AlreadyCommitted(taskId, from);
        }
        uint256 collateral = t.request.collateral;
        registry.lockCollateral(replacement, collateral, _releasedOf(replacement));
        if (w != DECLINED) registry.releaseCollateral(from, collateral, false);
        tasks[taskId] = _word(Status.Assigned, _hashReplacing(t, seat, replacement)) | (posted << 240);
        emit Reassigned(taskId, seat, from, replacement);
    }

    // ---------------------------------------------------------------- operators

    /// @notice Replicated: commit H(chainid, market, taskId, operator, resultDigest, salt).
    function commit(uint256 taskId, Task calldata t, bytes32 commitment) external {
        Status s = _load(taskId, t);
        _expectMode(taskId, t, Mode.Replicated);
        _expectStatus(taskId, s, Status.Assigned);
        uint256 i = _seatOf(taskId, t, msg.sender);
        uint256 w = seats[taskId][i];
        if (w == DECLINED) revert NotAssigned(taskId, msg.sender);
        if (w != 0) revert AlreadyCommitted(taskId, msg.sender);
        if (commitment == bytes32(0)) revert ZeroCommitment();
        if (block.timestamp > t.request.commitDeadline) revert CommitDeadlinePassed(taskId, t.request.commitDeadline);
        seats[taskId][i] = _committedWord(commitment, block.number);
        tasks[taskId] += POSTED_ONE;
        emit Committed(taskId, msg.sender, commitment);
    }

    /// @notice Replicated: open a commitment made in block `commitBlock` (the block of the
    ///         `Committed` event). Allowed once every active seat has committed or the commit
    ///         deadline has passed, and never in the block of one's own commit.
    function reveal(uint256 taskId, Task calldata t, bytes32 resultDigest, bytes32 salt, uint256 commitBlock) external {
        Status s = _load(taskId, t);
        _expectMode(taskId, t, Mode.Replicated);
        _expectStatus(taskId, s, Status.Assigned);
        (bool seated, uint256 i) = _findSeat(t, msg.sender);
        if (!seated) revert NotCommitted(taskId, msg.sender);
        uint256 w = seats[taskId][i];
        if (w & REVEALED_BIT != 0) revert AlreadyRevealed(taskId, msg.sender);
        if (w == 0 || w == DECLINED) revert NotCommitted(taskId, msg.sender);
        // `commitBlock` is authenticated below: it is part of the committed word.
        if (block.number <= commitBlock) revert RevealTooEarly(taskId, commitBlock);
        if (block.timestamp <= t.request.commitDeadline && _posted(taskId) < t.operators.length) {
            revert CommitPhaseOpen(taskId);
        }
        if (block.timestamp > t.request.revealDeadline) revert RevealDeadlinePassed(taskId, t.request.revealDeadline);
        if (_committedWord(commitmentOf(taskId, msg.sender, resultDigest, salt), commitBlock) != w) {
            revert CommitmentMismatch(taskId, msg.sender);
        }
        seats[taskId][i] = _revealedWord(resultDigest);
        emit Revealed(taskId, msg.sender, resultDigest);
    }

    /// @notice An assigned operator that cannot do the work (for example, the input is not
    ///         available) gives its seat back before committing or submitting. Its collateral is
    ///         released less `DECLINE_FEE_BPS` of it, which goes to the treasury (not to any
    ///         party of the task, so nobody gains from provoking a decline); the registry counts
    ///         a failure, and nobody is slashed or jailed. If no seat is left the client is
    ///         refunded.
    function decline(uint256 taskId, Task calldata t) external {
        _expectStatus(taskId, _load(taskId, t), Status.Assigned);
        uint256 i = _seatOf(taskId, t, msg.sender);
        uint256 n = t.operators.length;
        if (t.request.mode == Mode.Replicated && seats[taskId][i] != 0) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.request.commitDeadline) revert CommitDeadlinePassed(taskId, t.request.commitDeadline);
        uint256 fee = uint256(t.request.collateral) * DECLINE_FEE_BPS / 10_000;
        registry.releaseWithFee(msg.sender, t.request.collateral, fee);
        emit Declined(taskId, msg.sender);
        if (t.request.mode != Mode.Replicated) {
            _refund(taskId, t, RefundReason.NoSubmission, fee);
            return;
        }
        seats[taskId][i] = DECLINED;
        tasks[taskId] += POSTED_ONE;
        _settleBooks(0, fee);
        for (uint256 j = 0; j < n; ++j) {
            if (seats[taskId][j] != DECLINED) return;
        }
        for (uint256 j = 0; j < n; ++j) {
            delete seats[taskId][j];
        }
        _refund(taskId, t, RefundReason.NoSubmission, 0);
    }

    /// @notice Optimistic: post the result; the challenge window starts now.
    function submitResult(uint256 taskId, Task calldata t, bytes32 resultDigest) external {
        Status s = _load(taskId, t);
        _expectMode(taskId, t, Mode.Optimistic);
        _expectStatus(taskId, s, Status.Assigned);
        if (msg.sender != t.operators[0]) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.request.commitDeadline) revert CommitDeadlinePassed(taskId, t.request.commitDeadline);
        if (resultDigest == bytes32(0)) revert ZeroDigest();
        tasks[taskId] = _word(
            Status.Submitted, _hashWith(t, t.assigner, t.operators, uint32(block.timestamp), resultDigest)
        ) | (uint256(uint32(block.number)) << SUBMIT_BLOCK_SHIFT);
        emit ResultSubmitted(taskId, msg.sender, resultDigest, block.timestamp + t.request.challengeWindow);
    }

    /// @notice ZkProof: post the result with a proof; a valid proof settles and pays at once.
    function submitProof(uint256 taskId, Task calldata t, bytes32 resultDigest, bytes calldata proof) external {
        Status s = _load(taskId, t);
        _expectMode(taskId, t, Mode.ZkProof);
        _expectStatus(taskId, s, Status.Assigned);
        if (msg.sender != t.operators[0]) revert NotAssigned(taskId, msg.sender);
        if (block.timestamp > t.request.commitDeadline) revert CommitDeadlinePassed(taskId, t.request.commitDeadline);
        if (resultDigest == bytes32(0)) revert ZeroDigest();
        bool ok = IResultVerifier(t.verifier).verifyResult(
            t.request.programDigest, t.request.inputDigest, resultDigest, bindingOf(taskId, msg.sender), proof
        );
        if (!ok) revert InvalidProof(taskId);
        address[] memory winners = new address[](1);
        winners[0] = msg.sender;
        _payWinners(taskId, t, winners, 1, resultDigest, 0, 0);
    }

    // ---------------------------------------------------------------- settlement (anyone)

    /// @notice Settles a task whose result phase is over:
    ///         Replicated, once every active seat revealed or the reveal deadline passed;
    ///         `revealed` then holds each seat's revealed digest (zero for a seat that did not
    ///         reveal), as the `Revealed` events give them;
    ///         Optimistic, once the challenge window closed without a challenge (`revealed` empty).
    function finalize(uint256 taskId, Task calldata t, bytes32[] calldata revealed) external {
        Status s = _load(taskId, t);
        if (t.request.mode == Mode.Replicated) {
            _expectStatus(taskId, s, Status.Assigned);
            _finalizeReplicated(taskId, t, revealed);
        } else if (t.request.mode == Mode.Optimistic) {
            _expectStatus(taskId, s, Status.Submitted);
            uint256 closes = uint256(t.submittedAt) + t.request.challengeWindow;
            if (block.timestamp <= closes) revert TooEarly(taskId, closes + 1);
            uint256 w = tasks[taskId];
            if (w & CLEARED == 0 && _audited(taskId, t, w)) {
                _openAudit(taskId, t, w);
                return;
            }
            _payWinners(taskId, t, t.operators, 1, t.result, 0, 0);
        } else {
            revert WrongMode(taskId, t.request.mode);
        }
    }

    /// @notice The deadline exits: an unassigned task after its assignment deadline, or an
    ///         Optimistic/ZkProof task with no result after its submit deadline (the silent
    ///         operator is slashed). The client is refunded in both cases.
    function claimTimeout(uint256 taskId, Task calldata t) external {
        Status s = _load(taskId, t);
        if (s == Status.Open) {
            if (block.timestamp <= t.request.assignDeadline) revert TooEarly(taskId, uint256(t.request.assignDeadline) + 1);
            _refund(taskId, t, RefundReason.NotAssigned, 0);
            return;
        }
        if (t.request.mode == Mode.Replicated) revert WrongMode(taskId, t.request.mode);
        _expectStatus(taskId, s, Status.Assigned);
        if (block.timestamp <= t.request.commitDeadline) revert TooEarly(taskId, uint256(t.request.commitDeadline) + 1);
        uint256 slashed = _slash(taskId, t, t.operators[0], SlashReason.Silent);
        _refund(taskId, t, RefundReason.NoSubmission, slashed);
    }

    // ---------------------------------------------------------------- optimistic audits and disputes

    /// @notice Reads the audit coin of a submitted optimistic result: the hash of the block
    ///         after the one the result landed in, so neither the operator, a challenger nor
    ///         the coordinator knows it when the result is posted, and nobody can choose it by
    ///         timing a call. With probability `auditBps` the result is audited: its case opens
    ///         in the court with no challenger, and a committee drawn stake-weighted re-executes
    ///         it. Otherwise the task is marked cleared and settles with `finalize` once its
    ///         challenge window closes. A coin read after its block hash expired (256 blocks)
    ///         counts as audited, so letting it expire never helps. `finalize` reads the coin
    ///         itself; this call is for challenge windows longer than the hash lives.
    function rollAudit(uint256 taskId, Task calldata t) external {
        _expectStatus(taskId, _load(taskId, t), Status.Submitted);
        uint256 w = tasks[taskId];
        if (w & CLEARED != 0) revert AuditRolled(taskId);
        if (_audited(taskId, t, w)) {
            _openAudit(taskId, t, w);
        } else {
            tasks[taskId] = w | CLEARED;
            emit AuditDrawn(taskId, false);
        }
    }

    /// @notice Challenges a submitted result, posting a bond equal to the task's collateral, and
    ///         opens its case in the `DisputeCourt`.
    function challenge(uint256 taskId, Task calldata t) external nonReentrant {
        _expectStatus(taskId, _load(taskId, t), Status.Submitted);
        uint256 closes = uint256(t.submittedAt) + t.request.challengeWindow;
        if (block.timestamp > closes) revert ChallengeWindowClosed(taskId, closes);
        if (msg.sender == t.operators[0]) revert SelfChallenge(taskId);
        tasks[taskId] = (tasks[taskId] & HASH_MASK) | (uint256(Status.Challenged) << 248);
        challengerOf[taskId] = msg.sender;
        uint256 bond = t.request.collateral;
        bonded += bond;
        token.safeTransferFrom(msg.sender, address(this), bond);
        DisputeCourt(court).open(
            taskId, t.operators[0], msg.sender, t.client, t.result, bond, t.request.programDigest, t.request.inputDigest
        );
        emit Challenged(taskId, msg.sender, bond);
    }

    /// @notice Settles a dispute or an audit the court decided (or whose arbiter window passed
    ///         undecided).
    ///         Challenge, Overturned: the operator is slashed; the challenger gets its bond back
    ///         plus `CHALLENGE_REWARD_BPS` of the slash; `COMMITTEE_SHARE_BPS` of it pays the
    ///         committee; the rest goes to the treasury; the client is refunded. Upheld: the
    ///         operator is paid and gets the challenger's bond less the committee's share.
    ///         Audit (no challenger), Overturned: as a challenge with no challenger's reward, so
    ///         the treasury gets the rest. Upheld: `AUDIT_FEE_BPS` of the bounty pays the
    ///         committee and the operator is paid the rest of its reward.
    ///         Neutral: nobody is slashed; the operator's collateral is released, a bond is
    ///         returned and the client is refunded.
    function resolveDispute(uint256 taskId, Task calldata t) external nonReentrant {
        _expectStatus(taskId, _load(taskId, t), Status.Challenged);
        address operator = t.operators[0];
        address challenger = challengerOf[taskId];
        uint256 collateral = t.request.collateral;
        uint256 bond = challenger == address(0) ? 0 : collateral;
        uint256 slashShare = collateral * COMMITTEE_SHARE_BPS / 10_000;
        uint256 upheldPot = bond == 0 ? uint256(t.request.bounty) * AUDIT_FEE_BPS / 10_000 : slashShare;
        DisputeCourt.Verdict v = DisputeCourt(court).close(taskId, upheldPot, slashShare);
        if (bond != 0) {
            bonded -= bond;
            delete challengerOf[taskId];
        }
        emit DisputeResolved(taskId, uint8(v));
        if (v == DisputeCourt.Verdict.Neutral) {
            registry.releaseCollateral(operator, collateral, false);
            _credit(challenger, bond);
            _refund(taskId, t, RefundReason.NoVerdict, 0);
            return;
        }
        if (v == DisputeCourt.Verdict.Overturned) {
            token.safeTransfer(court, slashShare);
            uint256 slashed = _slash(taskId, t, operator, SlashReason.WrongResult);
            uint256 reward = bond == 0 ? 0 : slashed * CHALLENGE_REWARD_BPS / 10_000;
            _credit(challenger, bond + reward);
            _refund(taskId, t, RefundReason.ChallengeUpheld, slashed - reward - slashShare);
        } else {
            token.safeTransfer(court, upheldPot);
            if (bond != 0) {
                _credit(operator, bond - upheldPot);
                _payWinners(taskId, t, t.operators, 1, t.result, 0, 0);
            } else {
                _payWinners(taskId, t, t.operators, 1, t.result, 0, upheldPot);
            }
        }
    }

    // ---------------------------------------------------------------- withdrawals

    /// @notice Pays out the caller's whole balance (the treasury's includes what accrued to it).
    function withdraw() external nonReentrant returns (uint256 amount) {
        uint256 account = accounts[msg.sender];
        amount = account & BALANCE_MASK;
        if (msg.sender == treasury) {
            Books memory b = books;
            amount += b.treasuryAccrued;
            b.treasuryAccrued = 0;
            books = b;
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        accounts[msg.sender] = account & ~BALANCE_MASK;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice A task's status; `None` for an id no task has.
    function statusOf(uint256 taskId) external view returns (Status) {
        return Status(tasks[taskId] >> 248);
    }

    /// @notice A task's slot: status (top byte), replicated seats that committed or declined
    ///         (next byte), task hash (low 240 bits); only the status once settled.
    function taskWord(uint256 taskId) external view returns (uint256) {
        return tasks[taskId];
    }

    /// @notice The hash a task's slot holds for `t` (its low 240 bits): keccak256 of the ABI
    ///         encoding of `t` as a tuple (the 20 head words, then the operators array).
    function hashTask(Task calldata t) external pure returns (uint256) {
        return uint256(_hashOf(t)) & HASH_MASK;
    }

    /// @notice A replicated seat's word: 0 (nothing posted), 1 (declined), bit 255 clear
    ///         (committed) or set (revealed).
    function seatWord(uint256 taskId, uint256 seat) external view returns (uint256) {
        return seats[taskId][seat];
    }

    /// @inheritdoc ICollateralLedger
    function collateralOf(address operator) external view returns (uint256 released, uint256 paid) {
        uint256 w = accounts[operator];
        released = (w >> 128) & RELEASED_MASK;
        paid = w >> 224;
    }

    function taskCount() external view returns (uint256) {
        return books.taskCount;
    }

    /// @notice Sum of bounties of tasks not yet settled.
    function escrowed() external view returns (uint256) {
        return books.escrowed;
    }

    /// @notice Protocol fees and slashed collateral owed to the current treasury.
    function treasuryAccrued() external view returns (uint256) {
        return books.treasuryAccrued;
    }

    /// @notice What `account` can withdraw (for the treasury, including what accrued to it).
    function balanceOf(address account) external view returns (uint256) {
        uint256 amount = accounts[account] & BALANCE_MASK;
        if (account == treasury) amount += books.treasuryAccrued;
        return amount;
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

    function _assign(address assigner, uint256 taskId, Task calldata t, address[] calldata operators) private {
        _expectStatus(taskId, _load(taskId, t), Status.Open);
        TaskRequest calldata r = t.request;
        if (block.timestamp > r.assignDeadline) revert AssignDeadlinePassed(taskId, r.assignDeadline);
        if (operators.length != r.replication) revert WrongOperatorCount(operators.length, r.replication);
        for (uint256 i = 0; i < operators.length; ++i) {
            address op = operators[i];
            if (op == address(0)) revert ZeroAddress();
            for (uint256 j = 0; j < i; ++j) {
                if (operators[j] == op) revert DuplicateOperator(op);
            }
            registry.lockCollateral(op, r.collateral, _releasedOf(op));
        }
        tasks[taskId] = _word(Status.Assigned, _hashWith(t, assigner, operators, 0, bytes32(0)));
        emit TaskAssigned(taskId, assigner, operators);
    }

    function _validate(TaskRequest calldata r) private view returns (address verifier) {
        if (r.bounty == 0) revert ZeroAmount();
        if (r.collateral == 0) revert ZeroAmount();
        if (r.programDigest == bytes32(0) || r.inputDigest == bytes32(0)) revert ZeroDigest();
        if (r.mode == Mode.Replicated) {
            if (r.replication < MIN_REPLICATION || r.replication > MAX_REPLICATION || r.quorum > r.replication || uint256(r.quorum) * 2 <= r.replication) {
                revert InvalidReplication(r.replication, r.quorum);
            }
        } else if (r.replication != 1 || r.quorum != 1) {
            revert InvalidReplication(r.replication, r.quorum);
        }
        if (r.assignDeadline <= block.timestamp) revert DeadlineInPast(r.assignDeadline, block.timestamp);
        if (r.commitDeadline <= r.assignDeadline) revert DeadlinesOutOfOrder();
        if (r.commitDeadline - r.assignDeadline < minResponseWindow) {
            revert WindowTooShort(r.commitDeadline - r.assignDeadline, minResponseWindow);
        }
        uint256 last = r.commitDeadline;
        if (r.mode == Mode.Replicated) {
            if (r.revealDeadline <= r.commitDeadline) revert DeadlinesOutOfOrder();
            if (r.revealDeadline - r.commitDeadline < minRevealWindow) {
                revert WindowTooShort(r.revealDeadline - r.commitDeadline, minRevealWindow);
            }
            last = r.revealDeadline;
        } else if (r.revealDeadline != 0) {
            revert DeadlinesOutOfOrder();
        }
        if (last - block.timestamp > MAX_TASK_DURATION) revert TaskTooLong(last - block.timestamp, MAX_TASK_DURATION);
        if (r.mode == Mode.Optimistic) {
            if (r.challengeWindow == 0 || r.challengeWindow > MAX_CHALLENGE_WINDOW) revert InvalidChallengeWindow(r.challengeWindow);
            uint256 p = r.auditBps;
            if (p < minAuditBps || p > 10_000) revert InvalidAuditRate(p);
            if (p != 0) {
                uint256 floor = collateralFloor(r.bounty, p);
                if (r.collateral < floor) revert CollateralTooLow(r.collateral, floor);
            }
        } else {
            if (r.challengeWindow != 0) revert InvalidChallengeWindow(r.challengeWindow);
            if (r.auditBps != 0) revert InvalidAuditRate(r.auditBps);
        }
        if (r.mode == Mode.ZkProof) {
            verifier = verifiers.verifierOf(r.verifierId);
        } else if (r.verifierId != bytes32(0)) {
            revert UnexpectedVerifier(r.verifierId);
        }
    }

    /// @notice Least collateral of an optimistic task with this bounty and audit rate `p`:
    ///         `bounty * (1 - p) / p + bounty * AUDIT_FEE_BPS`, rounded up. An operator that
    ///         skips the work keeps its reward with probability `1 - p` and loses the collateral
    ///         with probability `p`; at the floor that expectation is never above what honest
    ///         work earns, whatever the work costs (docs/protocol.md, "Audits").
    function collateralFloor(uint256 bounty, uint256 p) public pure returns (uint256) {
        if (p == 0 || p > 10_000) revert InvalidAuditRate(p);
        return (bounty * (10_000 - p) + p - 1) / p + bounty * AUDIT_FEE_BPS / 10_000;
    }

    /// @dev The audit coin of a submitted result (see `rollAudit`).
    function _audited(uint256 taskId, Task calldata t, uint256 w) private view returns (bool) {
        if (t.request.auditBps == 0) return false;
        uint256 coinBlock = ((w >> SUBMIT_BLOCK_SHIFT) & type(uint32).max) + 1;
        if (block.number <= coinBlock) revert CoinNotReady(taskId, coinBlock + 1);
        bytes32 h = blockhash(coinBlock);
        return h == bytes32(0) || uint256(keccak256(abi.encode(h, taskId))) % 10_000 < t.request.auditBps;
    }

    /// @dev Opens the audit of a submitted result: a court case with no challenger and no bond.
    function _openAudit(uint256 taskId, Task calldata t, uint256 w) private {
        tasks[taskId] = (w & HASH_MASK) | (uint256(Status.Challenged) << 248);
        DisputeCourt(court).open(
            taskId, t.operators[0], address(0), t.client, t.result, t.request.collateral, t.request.programDigest, t.request.inputDigest
        );
        emit AuditDrawn(taskId, true);
        emit Challenged(taskId, address(0), 0);
    }

    function _finalizeReplicated(uint256 taskId, Task calldata t, bytes32[] calldata revealed) private {
        (uint256 revealedMask, uint256 declinedMask) = _scanSeats(taskId, t, revealed);
        (bytes32 best, uint256 bestCount) = _plurality(revealed, revealedMask);
        _settleSeats(taskId, t, revealed, revealedMask, declinedMask, best, bestCount);
    }

    /// @dev Reads every seat once: which revealed (checked against the digest given), which
    ///      declined; reverts while a reveal is still possible.
    function _scanSeats(uint256 taskId, Task calldata t, bytes32[] calldata revealed)
        private
        view
        returns (uint256 revealedMask, uint256 declinedMask)
    {
        uint256 n = t.operators.length;
        if (revealed.length != n) revert WrongOperatorCount(revealed.length, n);
        uint256 active;
        uint256 reveals;
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = seats[taskId][i];
            if (w == DECLINED) {
                declinedMask |= 1 << i;
                continue;
            }
            ++active;
            if (w & REVEALED_BIT == 0) continue;
            if (_revealedWord(revealed[i]) != w) revert RevealMismatch(taskId, i);
            revealedMask |= 1 << i;
            ++reveals;
        }
        if (reveals < active && block.timestamp <= t.request.revealDeadline) {
            revert TooEarly(taskId, uint256(t.request.revealDeadline) + 1);
        }
    }

    /// @dev The digest with the most reveals (the first such seat's on a tie).
    function _plurality(bytes32[] calldata revealed, uint256 revealedMask)
        private
        pure
        returns (bytes32 best, uint256 bestCount)
    {
        uint256 n = revealed.length;
        for (uint256 i = 0; i < n; ++i) {
            if (revealedMask & (1 << i) == 0) continue;
            uint256 count;
            for (uint256 j = 0; j < n; ++j) {
                if (revealedMask & (1 << j) != 0 && revealed[j] == revealed[i]) ++count;
            }
            if (count > bestCount) {
                bestCount = count;
                best = revealed[i];
            }
        }
    }

    /// @dev Slashes the silent and the dissenting, releases everyone on no majority, pays the
    ///      majority. Seats are cleared as they are settled (the refund pays for part of this).
    function _settleSeats(
        uint256 taskId,
        Task calldata t,
        bytes32[] calldata revealed,
        uint256 revealedMask,
        uint256 declinedMask,
        bytes32 best,
        uint256 bestCount
    ) private {
        bool majority = bestCount >= t.request.quorum;
        address[] memory winners = new address[](majority ? bestCount : 0);
        uint256 w;
        uint256 slashed;
        for (uint256 i = 0; i < revealed.length; ++i) {
            delete seats[taskId][i];
            if (declinedMask & (1 << i) != 0) continue;
            address op = t.operators[i];
            if (revealedMask & (1 << i) == 0) {
                slashed += _slash(taskId, t, op, SlashReason.Silent);
            } else if (!majority) {
                registry.releaseCollateral(op, t.request.collateral, false);
            } else if (revealed[i] == best) {
                winners[w++] = op;
            } else {
                slashed += _slash(taskId, t, op, SlashReason.Dissent);
            }
        }
        if (majority) {
            _payWinners(taskId, t, winners, bestCount, best, slashed, 0);
        } else {
            _refund(taskId, t, RefundReason.NoMajority, slashed);
        }
    }

    /// @dev Splits the bounty: protocol fee to the treasury, scheduler fee to the assigner, the
    ///      rest equally to `winners` (first `count` entries), and the division remainder (less
    ///      than `count` base units) to the treasury with the fee, which costs no extra write.
    ///      Releases the winners' collateral in the same writes that credit them (no registry
    ///      call). `toTreasury` is what else the settlement owes the treasury (slashed
    ///      collateral), accrued in the same write. `withheld` is taken from the reward and
    ///      leaves escrow with the bounty (the caller sends it on: an audit's fee).
    function _payWinners(
        uint256 taskId,
        Task calldata t,
        address[] memory winners,
        uint256 count,
        bytes32 result,
        uint256 toTreasury,
        uint256 withheld
    ) private {
        tasks[taskId] = uint256(Status.Finalized) << 248;
        uint256 bounty = t.request.bounty;
        uint256 protocolFee = bounty * t.protocolFeeBps / 10_000;
        uint256 schedulerFee = bounty * t.schedulerFeeBps / 10_000;
        uint256 reward = bounty - protocolFee - schedulerFee - withheld;
        uint256 each = reward / count;
        uint256 dust = reward - each * count;
        uint256 collateral = t.request.collateral;
        for (uint256 i = 0; i < count; ++i) {
            _payWinner(winners[i], each, collateral);
        }
        _credit(t.assigner, schedulerFee);
        _settleBooks(bounty, protocolFee + dust + toTreasury);
        emit TaskFinalized(taskId, result, count, each, protocolFee, schedulerFee);
    }

    function _refund(uint256 taskId, Task calldata t, RefundReason reason, uint256 toTreasury) private {
        tasks[taskId] = uint256(Status.Refunded) << 248;
        uint256 bounty = t.request.bounty;
        _credit(t.client, bounty);
        _settleBooks(bounty, toTreasury);
        emit TaskRefunded(taskId, reason, bounty);
    }

    /// @dev One write of the books: `released` leaves escrow, `toTreasury` accrues to the
    ///      treasury (moved to its balance if the accrual would overflow). No `Credited` event:
    ///      `TaskFinalized` (protocol fee; dust is the rest of the split) and `OperatorSlashed`
    ///      already say what accrued, and the event would cost a read of `treasury` per task.
    function _settleBooks(uint256 released, uint256 toTreasury) private {
        Books memory b = books;
        b.escrowed -= uint112(released);
        if (toTreasury != 0) {
            if (toTreasury > type(uint112).max - b.treasuryAccrued) {
                _addBalance(treasury, b.treasuryAccrued + toTreasury);
                b.treasuryAccrued = 0;
            } else {
                b.treasuryAccrued += uint112(toTreasury);
            }
        }
        books = b;
    }

    /// @dev Slashed collateral goes to the treasury (the caller accrues the returned amount):
    ///      no party to the task profits from a slash, so none has a reason to provoke one. The
    ///      one exception is a challenger that won a dispute (see `resolveDispute`).
    function _slash(uint256 taskId, Task calldata t, address op, SlashReason reason)
        private
        returns (uint256 amount)
    {
        amount = t.request.collateral;
        registry.slash(op, amount);
        emit OperatorSlashed(taskId, op, amount, reason);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _addBalance(account, amount);
        emit Credited(account, amount);
    }

    function _addBalance(address account, uint256 amount) private {
        uint256 w = accounts[account];
        if (amount > BALANCE_MASK - (w & BALANCE_MASK)) revert AmountTooLarge(amount);
        accounts[account] = w + amount;
    }

    /// @dev Pays a winner `amount` and releases its `collateral` in one write of its account
    ///      word (the registry reads the released total through `collateralOf`).
    function _payWinner(address op, uint256 amount, uint256 collateral) private {
        uint256 w = accounts[op];
        uint256 balance = (w & BALANCE_MASK) + amount;
        if (balance > BALANCE_MASK) revert AmountTooLarge(amount);
        uint256 released = ((w >> 128) + collateral) & RELEASED_MASK;
        uint256 paid = (w >> 224) + 1;
        accounts[op] = balance | (released << 128) | (paid << 224);
        if (amount != 0) emit Credited(op, amount);
    }

    /// @dev What the registry is told when it locks collateral: the released total.
    function _releasedOf(address op) private view returns (uint256) {
        return (accounts[op] >> 128) & RELEASED_MASK;
    }

    /// @dev Checks `t` against the task's slot and returns the status. Settled tasks keep only
    ///      their status, so any `t` is accepted for them and the caller's status check rejects.
    function _load(uint256 taskId, Task calldata t) private view returns (Status s) {
        uint256 w = tasks[taskId];
        if (w == 0) revert UnknownTask(taskId);
        s = Status(w >> 248);
        if (s == Status.Finalized || s == Status.Refunded) return s;
        if (w & HASH_MASK != uint256(_hashOf(t)) & HASH_MASK) revert TaskMismatch(taskId);
    }

    // Task hashing. keccak256(abi.encode(t)) costs several thousand gas per call for copying
    // the calldata struct to memory field by field; these hand-written versions copy the head
    // in one `calldatacopy` and hash the same bytes: the ABI tuple encoding of `Task` (21 head
    // words, word 18 the offset 0x2a0 of `operators`, then its length and elements). Raw
    // calldata is hashed as given: a non-canonical or dirty encoding hashes differently and is
    // rejected as `TaskMismatch`, so what is decoded is always what was hashed.

    /// @dev The hash of `t` as passed.
    function _hashOf(Task calldata t) private pure returns (bytes32 h) {
        address[] calldata ops = t.operators;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, t, 0x2a0)
            let n := mul(ops.length, 0x20)
            mstore(add(m, 0x2a0), ops.length)
            calldatacopy(add(m, 0x2c0), ops.offset, n)
            h := keccak256(m, add(0x2c0, n))
        }
    }

    /// @dev The hash of `t` with its mutable fields replaced.
    function _hashWith(Task calldata t, address assigner, address[] calldata ops, uint256 submittedAt, bytes32 result)
        private
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, t, 0x220)
            mstore(add(m, 0x220), assigner)
            mstore(add(m, 0x240), 0x2a0)
            mstore(add(m, 0x260), submittedAt)
            mstore(add(m, 0x280), result)
            let n := mul(ops.length, 0x20)
            mstore(add(m, 0x2a0), ops.length)
            calldatacopy(add(m, 0x2c0), ops.offset, n)
            h := keccak256(m, add(0x2c0, n))
        }
    }

    /// @dev The hash of `t` with `operators[seat]` replaced by `replacement` (`seat` is in range).
    function _hashReplacing(Task calldata t, uint256 seat, address replacement) private pure returns (bytes32 h) {
        address[] calldata ops = t.operators;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, t, 0x2a0)
            let n := mul(ops.length, 0x20)
            mstore(add(m, 0x2a0), ops.length)
            calldatacopy(add(m, 0x2c0), ops.offset, n)
            mstore(add(m, add(0x2c0, mul(seat, 0x20))), replacement)
            h := keccak256(m, add(0x2c0, n))
        }
    }

    /// @dev The hash of a new task: `request` (13 static words, validated by `_validate`), the
    ///      caller as client, the snapshots, and nothing assigned.
    function _hashNew(TaskRequest calldata request, uint16 pf, uint16 sf, address verifier)
        private
        view
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, request, 0x1a0)
            mstore(add(m, 0x1a0), caller())
            mstore(add(m, 0x1c0), pf)
            mstore(add(m, 0x1e0), sf)
            mstore(add(m, 0x200), verifier)
            mstore(add(m, 0x220), 0)
            mstore(add(m, 0x240), 0x2a0)
            mstore(add(m, 0x260), 0)
            mstore(add(m, 0x280), 0)
            mstore(add(m, 0x2a0), 0)
            h := keccak256(m, 0x2c0)
        }
    }

    /// @dev Replicated seats of `taskId` that committed or declined (nonzero seat words).
    function _posted(uint256 taskId) private view returns (uint256) {
        return (tasks[taskId] >> 240) & 0xff;
    }

    function _word(Status s, bytes32 h) private pure returns (uint256) {
        return (uint256(s) << 248) | (uint256(h) & HASH_MASK);
    }

    /// @dev A commitment bound to its block; bit 255 clear and bit 1 set, so it is never 0,
    ///      DECLINED, or a revealed word.
    function _committedWord(bytes32 commitment, uint256 blockNumber) private pure returns (uint256) {
        return (uint256(keccak256(abi.encode(commitment, blockNumber))) >> 1) | 2;
    }

    function _revealedWord(bytes32 digest) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(digest))) | REVEALED_BIT;
    }

    function _seatOf(uint256 taskId, Task calldata t, address who) private pure returns (uint256 i) {
        bool seated;
        (seated, i) = _findSeat(t, who);
        if (!seated) revert NotAssigned(taskId, who);
    }

    function _findSeat(Task calldata t, address who) private pure returns (bool, uint256) {
        uint256 n = t.operators.length;
        for (uint256 i = 0; i < n; ++i) {
            if (t.operators[i] == who) return (true, i);
        }
        return (false, 0);
    }

    function _expectStatus(uint256 taskId, Status actual, Status s) private pure {
        if (actual != s) revert WrongStatus(taskId, actual);
    }

    function _expectMode(uint256 taskId, Task calldata t, Mode m) private pure {
        if (t.request.mode != m) revert WrongMode(taskId, t.request.mode);
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

}
