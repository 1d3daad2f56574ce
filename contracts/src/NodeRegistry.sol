// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICollateralLedger} from "./interfaces/ICollateralLedger.sol";

/// @title NodeRegistry
/// @notice Operator identity, stake, collateral locks and slashing.
///
/// Stake accounting: `stake` is bonded stake. Part of it can be `locked` as collateral by the
/// market while a task is open; locked stake can only leave through the market (released back to
/// free stake, or slashed). A lock goes through `lockCollateral`; the release of a paid
/// winner's collateral does not call this contract: the market counts it in its own storage
/// (`ICollateralLedger.collateralOf`) and this contract subtracts that count wherever it needs
/// what is still locked (a lock, an unstake, a release, a slash, the views). Free stake (`stake - locked`) can be moved to `unbonding` and, after
/// `unbondingDelay`, withdrawn. Unbonding stake is never locked, so nothing that may still be
/// slashed can ever be withdrawn. The token balance of this contract always equals the sum of
/// all `stake + unbonding`.
///
/// Eligible set: the operators that are registered, not jailed and staked at least `minStake`,
/// kept as a list with constant-time insertion and swap-and-pop removal. Committee and seat draws
/// walk this list, never the list of all registrations, so free registrations cost the draws
/// nothing. Membership follows every call that changes it (`stake`, `requestUnstake`, `slash`);
/// what changes with time or governance alone (a jail ending, `minStake` changing) is applied by
/// `syncEligibility`, which anyone may call. Draws re-check `isEligible` for every candidate, so a
/// stale member is skipped, never chosen. Each member's `eligibleSince` block lets a draw ignore
/// operators that joined after the draw's snapshot.
contract NodeRegistry is Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_METADATA_CID_BYTES = 96;
    uint256 public constant MAX_UNBONDING_DELAY = 30 days;
    uint256 public constant MAX_JAIL_DURATION = 30 days;
    /// @notice `drawEligible` weights candidates by stake up to this many times `minStake`
    ///         (acceptance probability min(stake, cap) / cap), so splitting a stake across
    ///         identities buys no extra draws.
    uint256 public constant STAKE_WEIGHT_CAP_MULTIPLE = 10;

    struct Operator {
        // slot 0
        address signer; // node signing key: heartbeats, attestations
        uint32 region; // ISO 3166-1 numeric code, or 0 for "unspecified"
        uint64 capabilities; // bit flags (see docs/protocol.md)
        // slot 1: everything a collateral lock reads and writes, so a lock is one cold slot
        uint96 stake;
        // Stored: collateral locked through this contract, less what it released or slashed,
        // modulo 2^96. The market releases a paid winner's collateral in its own storage (the
        // write that credits the reward), counted in `ICollateralLedger.collateralOf`; what is
        // still locked is this minus that, modulo 2^96. Views return what is still locked.
        uint96 locked;
        uint40 jailedUntil;
        bool registered;
        // slot 2
        uint96 unbonding;
        uint40 unbondingReadyAt;
        // Stored: tasks counted here (failures, and completions before the market counted
        // them). Views add the market's count of paid tasks.
        uint32 tasksCompleted;
        uint32 tasksFailed;
        uint32 timesSlashed;
        // slot 3..
        bytes32 hardwareHash;
        bytes metadataCid;
    }

    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error NotMarket(address caller);
    error MarketAlreadySet(address market);
    error CourtAlreadySet(address court);
    error AlreadyRegistered(address operator);
    error NotRegistered(address operator);
    error MetadataTooLong(uint256 length, uint256 max);
    error InsufficientFreeStake(address operator, uint256 free, uint256 needed);
    error BelowMinimumStake(address operator, uint256 stake, uint256 minimum);
    error OperatorJailed(address operator, uint256 until);
    error NothingUnbonding(address operator);
    error UnbondingNotReady(address operator, uint256 readyAt);
    error ParameterOutOfRange(uint256 value, uint256 max);
    error CollateralUnderflow(address operator, uint256 locked, uint256 amount);
    error FeeAboveAmount(uint256 fee, uint256 amount);

    event MarketSet(address indexed market);
    event CourtSet(address indexed court);
    event MinStakeSet(uint256 minStake);
    event UnbondingDelaySet(uint256 delay);
    event JailDurationSet(uint256 duration);
    event OperatorRegistered(
        address indexed operator,
        address indexed signer,
        bytes32 hardwareHash,
        bytes metadataCid,
        uint32 region,
        uint64 capabilities
    );
    event OperatorUpdated(
        address indexed operator,
        address indexed signer,
        bytes32 hardwareHash,
        bytes metadataCid,
        uint32 region,
        uint64 capabilities
    );
    event Staked(address indexed operator, uint256 amount, uint256 stake);
    event UnstakeRequested(address indexed operator, uint256 amount, uint256 unbonding, uint256 readyAt);
    event UnbondedWithdrawn(address indexed operator, uint256 amount);
    event CollateralLocked(address indexed operator, uint256 amount, uint256 locked);
    event CollateralReleased(address indexed operator, uint256 amount, bool completed);
    event Slashed(address indexed operator, uint256 amount, uint256 jailedUntil);
    event Forfeited(address indexed operator, uint256 amount);
    event EligibilityChanged(address indexed operator, bool eligible);

    IERC20 public immutable token;
    // `market` and `minStake` share a slot: a collateral lock reads both with one access.
    address public market;
    uint96 public minStake;
    uint256 public unbondingDelay;
    uint256 public jailDuration;

    mapping(address => Operator) private operators;
    /// @notice Every operator that ever registered, in registration order (for listings; no
    ///         on-chain code iterates it).
    address[] public operatorList;
    /// @dev The eligible set (see the contract doc), and each member's 1-based slot in it.
    address[] private eligible;
    mapping(address => uint256) private eligibleSlot;
    /// @notice The block in which an operator last entered the eligible set (0 if never).
    mapping(address => uint256) public eligibleSince;
    /// @notice The dispute court: it locks committee members' collateral, releases it, and
    ///         takes a penalty from members that did not vote with the outcome.
    address public court;

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
        _;
    }

    /// @dev The market or the court: the two contracts that lock and release collateral.
    modifier onlyLedger() {
        if (msg.sender != market && (msg.sender != court || court == address(0))) revert NotMarket(msg.sender);
        _;
    }

    constructor(
        address owner_,
        IERC20 token_,
        uint256 minStake_,
        uint256 unbondingDelay_,
        uint256 jailDuration_
    ) Ownable(owner_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (unbondingDelay_ > MAX_UNBONDING_DELAY) {
            revert ParameterOutOfRange(unbondingDelay_, MAX_UNBONDING_DELAY);
        }
        if (jailDuration_ > MAX_JAIL_DURATION) revert ParameterOutOfRange(jailDuration_, MAX_JAIL_DURATION);
        if (minStake_ > type(uint96).max) revert AmountTooLarge(minStake_);
        token = token_;
        minStake = uint96(minStake_);
        unbondingDelay = unbondingDelay_;
        jailDuration = jailDuration_;
    }

    // ---------------------------------------------------------------- governance

    /// @notice Binds the market once. Only the market can lock, release and slash collateral.
    function setMarket(address market_) external onlyOwner {
        if (market != address(0)) revert MarketAlreadySet(market);
        if (market_ == address(0)) revert ZeroAddress();
        market = market_;
        emit MarketSet(market_);
    }

    /// @notice Binds the dispute court once (see `court`).
    function setCourt(address court_) external onlyOwner {
        if (court != address(0)) revert CourtAlreadySet(court);
        if (court_ == address(0)) revert ZeroAddress();
        court = court_;
        emit CourtSet(court_);
    }

    function setMinStake(uint256 minStake_) external onlyOwner {
        if (minStake_ > type(uint96).max) revert AmountTooLarge(minStake_);
        minStake = uint96(minStake_);
        emit MinStakeSet(minStake_);
    }

    function setUnbondingDelay(uint256 delay) external onlyOwner {
        if (delay > MAX_UNBONDING_DELAY) revert ParameterOutOfRange(delay, MAX_UNBONDING_DELAY);
        unbondingDelay = delay;
        emit UnbondingDelaySet(delay);
    }

    function setJailDuration(uint256 duration) external onlyOwner {
        if (duration > MAX_JAIL_DURATION) revert ParameterOutOfRange(duration, MAX_JAIL_DURATION);
        jailDuration = duration;
        emit JailDurationSet(duration);
    }

    // ---------------------------------------------------------------- operators

    function register(
        address signer,
        bytes32 hardwareHash,
        bytes calldata metadataCid,
        uint32 region,
        uint64 capabilities
    ) external {
        Operator storage op = operators[msg.sender];
        if (op.registered) revert AlreadyRegistered(msg.sender);
        _setMetadata(op, signer, hardwareHash, metadataCid, region, capabilities);
        op.registered = true;
        operatorList.push(msg.sender);
        emit OperatorRegistered(msg.sender, signer, hardwareHash, metadataCid, region, capabilities);
    }

    function updateMetadata(
        address signer,
        bytes32 hardwareHash,
        bytes calldata metadataCid,
        uint32 region,
        uint64 capabilities
    ) external {
        Operator storage op = _registered(msg.sender);
        _setMetadata(op, signer, hardwareHash, metadataCid, region, capabilities);
        emit OperatorUpdated(msg.sender, signer, hardwareHash, metadataCid, region, capabilities);
    }

    function stake(uint256 amount) external nonReentrant {
        Operator storage op = _registered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        // Compared before adding, so even type(uint256).max is a named error, not an overflow.
        if (amount > type(uint96).max - op.stake) revert AmountTooLarge(amount);
        uint256 newStake = uint256(op.stake) + amount;
        op.stake = uint96(newStake);
        _sync(msg.sender, op);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, newStake);
    }

    /// @notice Moves free stake to unbonding. Restarts the unbonding clock for the whole
    ///         unbonding amount.
    function requestUnstake(uint256 amount) external {
        Operator storage op = _registered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 free = uint256(op.stake) - _lockedNow(msg.sender, op);
        if (amount > free) revert InsufficientFreeStake(msg.sender, free, amount);
        if (amount > type(uint96).max - op.unbonding) revert AmountTooLarge(amount);
        op.stake -= uint96(amount);
        op.unbonding += uint96(amount);
        uint256 readyAt = block.timestamp + unbondingDelay;
        op.unbondingReadyAt = uint40(readyAt);
        _sync(msg.sender, op);
        emit UnstakeRequested(msg.sender, amount, op.unbonding, readyAt);
    }

    /// @notice Brings `operator`'s membership of the eligible set up to date (after its jail
    ///         ended, or `minStake` changed). Anyone may call it; it changes nothing else.
    function syncEligibility(address operator) external {
        _sync(operator, operators[operator]);
    }

    function withdrawUnbonded() external nonReentrant {
        Operator storage op = operators[msg.sender];
        uint256 amount = op.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < op.unbondingReadyAt) revert UnbondingNotReady(msg.sender, op.unbondingReadyAt);
        op.unbonding = 0;
        op.unbondingReadyAt = 0;
        token.safeTransfer(msg.sender, amount);
        emit UnbondedWithdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- market hooks

    /// @notice Locks `amount` of free stake as collateral for a task. Reverts if the operator is
    ///         not registered, is jailed, is below the minimum stake, or lacks free stake.
    ///         `released` is the market's `collateralOf(operator)` count of released collateral
    ///         (the market passes it, as it reads that word anyway; only the market can call).
    function lockCollateral(address operator, uint256 amount, uint256 released) external onlyMarket {
        _lock(operator, amount, released);
    }

    /// @notice The court locks a committee member's collateral (same checks as
    ///         `lockCollateral`; the market's released count is read here).
    function lockMemberCollateral(address operator, uint256 amount) external {
        if (msg.sender != court || court == address(0)) revert NotMarket(msg.sender);
        (uint256 released,) = _ledger(operator);
        _lock(operator, amount, released);
    }

    function _lock(address operator, uint256 amount, uint256 released) private {
        Operator storage op = operators[operator];
        uint256 stake_ = op.stake;
        uint256 jailedUntil = op.jailedUntil;
        if (!op.registered) revert NotRegistered(operator);
        if (jailedUntil > block.timestamp) revert OperatorJailed(operator, jailedUntil);
        if (stake_ < minStake) revert BelowMinimumStake(operator, stake_, minStake);
        uint256 lockedNow;
        unchecked {
            lockedNow = uint96(op.locked - uint96(released));
        }
        uint256 free = stake_ - lockedNow;
        if (amount > free) revert InsufficientFreeStake(operator, free, amount);
        unchecked {
            // `amount <= free < 2^96`; the stored value is modulo 2^96.
            op.locked += uint96(amount);
        }
        emit CollateralLocked(operator, amount, lockedNow + amount);
    }

    /// @notice Returns collateral to free stake and counts the task as completed or failed.
    ///         (The market releases a paid winner's collateral without calling this; it calls
    ///         this for a release without payment: a decline, a failover, no majority.)
    function releaseCollateral(address operator, uint256 amount, bool completed) external onlyLedger {
        Operator storage op = operators[operator];
        uint256 lockedNow = _lockedNow(operator, op);
        if (amount > lockedNow) revert CollateralUnderflow(operator, lockedNow, amount);
        unchecked {
            op.locked -= uint96(amount);
        }
        if (completed) op.tasksCompleted += 1;
        else op.tasksFailed += 1;
        emit CollateralReleased(operator, amount, completed);
    }

    /// @notice Releases `amount` of locked collateral of which `fee` is forfeited: taken from
    ///         the stake and sent to the market, without a jail or a slash count (a decline's
    ///         fee). Counts a failed task.
    function releaseWithFee(address operator, uint256 amount, uint256 fee) external onlyLedger nonReentrant {
        if (fee > amount) revert FeeAboveAmount(fee, amount);
        Operator storage op = operators[operator];
        uint256 lockedNow = _lockedNow(operator, op);
        if (amount > lockedNow) revert CollateralUnderflow(operator, lockedNow, amount);
        unchecked {
            op.locked -= uint96(amount);
        }
        op.stake -= uint96(fee);
        op.tasksFailed += 1;
        emit CollateralReleased(operator, amount - fee, false);
        if (fee != 0) {
            _sync(operator, op);
            token.safeTransfer(msg.sender, fee);
            emit Forfeited(operator, fee);
        }
    }

    /// @notice Takes `amount` of locked collateral, sends it to the market and jails the operator.
    function slash(address operator, uint256 amount) external onlyMarket nonReentrant {
        Operator storage op = operators[operator];
        uint256 lockedNow = _lockedNow(operator, op);
        if (amount > lockedNow) revert CollateralUnderflow(operator, lockedNow, amount);
        unchecked {
            op.locked -= uint96(amount);
        }
        op.stake -= uint96(amount);
        op.tasksFailed += 1;
        op.timesSlashed += 1;
        uint256 until = block.timestamp + jailDuration;
        if (until > op.jailedUntil) op.jailedUntil = uint40(until);
        _sync(operator, op);
        token.safeTransfer(msg.sender, amount);
        emit Slashed(operator, amount, op.jailedUntil);
    }

    // ---------------------------------------------------------------- views

    /// @notice The operator, with `locked` the collateral still locked and `tasksCompleted`
    ///         including the tasks the market paid (see `locked` in `Operator`).
    function getOperator(address operator) external view returns (Operator memory o) {
        o = operators[operator];
        (uint256 released, uint256 paid) = _ledger(operator);
        unchecked {
            o.locked = uint96(o.locked - uint96(released));
        }
        o.tasksCompleted += uint32(paid);
    }

    function operatorCount() external view returns (uint256) {
        return operatorList.length;
    }

    function freeStake(address operator) external view returns (uint256) {
        Operator storage op = operators[operator];
        return uint256(op.stake) - _lockedNow(operator, op);
    }

    /// @notice Registered, not jailed, and at or above the minimum stake.
    function isEligible(address operator) public view returns (bool) {
        return _isEligible(operators[operator]);
    }

    /// @notice Members of the eligible set (some may have turned ineligible since their last sync).
    function eligibleCount() external view returns (uint256) {
        return eligible.length;
    }

    /// @notice What a draw needs of the set's member at `index` in one call: its address, stake,
    ///         the block it joined, and whether it is eligible now. `index` past the end returns
    ///         zeros (a draw whose snapshot was larger than the set is now skips it).
    function eligibleAt(uint256 index)
        external
        view
        returns (address operator, uint256 stake_, uint256 since, bool eligibleNow)
    {
        if (index >= eligible.length) return (address(0), 0, 0, false);
        operator = eligible[index];
        Operator storage op = operators[operator];
        return (operator, op.stake, eligibleSince[operator], _isEligible(op));
    }

    /// @notice Draws up to `want` distinct operators for a committee or a seat: `tries`
    ///         candidates at slots `keccak256(seed, i) % pool` of the eligible set, each taken if
    ///         it is registered, unjailed and staked at least `minStake_` (the caller's snapshot of
    ///         `minStake`), entered the set before block `joinedBefore`, is not in `exclude` or
    ///         already picked, and passes the stake weight (min(stake, cap) / cap with cap =
    ///         `STAKE_WEIGHT_CAP_MULTIPLE` x `minStake_`). `pool` is the set's size at the
    ///         caller's snapshot: slots past today's end are skipped. A view: the caller supplies
    ///         an unpredictable `seed` and records the result.
    function drawEligible(
        bytes32 seed,
        uint256 pool,
        uint256 joinedBefore,
        uint256 minStake_,
        uint256 want,
        uint256 tries,
        address[] calldata exclude
    ) external view returns (address[] memory picked) {
        picked = new address[](want);
        uint256 n;
        uint256 len = eligible.length;
        if (pool == 0 || want == 0) return _truncate(picked, 0);
        uint256 cap = minStake_ * STAKE_WEIGHT_CAP_MULTIPLE;
        if (cap == 0) cap = 1;
        for (uint256 i = 0; i < tries && n < want; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 slot = r % pool;
            if (slot >= len) continue;
            address c = eligible[slot];
            Operator storage op = operators[c];
            if (!op.registered || op.jailedUntil > block.timestamp || op.stake < minStake_) continue;
            if (eligibleSince[c] >= joinedBefore) continue;
            uint256 weight = op.stake < cap ? op.stake : cap;
            if ((r >> 128) % cap >= weight) continue;
            if (_contains(exclude, c) || _containsPrefix(picked, n, c)) continue;
            picked[n++] = c;
        }
        return _truncate(picked, n);
    }

    // ---------------------------------------------------------------- internals

    function _contains(address[] calldata list, address who) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == who) return true;
        }
        return false;
    }

    function _containsPrefix(address[] memory list, uint256 n, address who) private pure returns (bool) {
        for (uint256 i = 0; i < n; ++i) {
            if (list[i] == who) return true;
        }
        return false;
    }

    function _truncate(address[] memory list, uint256 n) private pure returns (address[] memory) {
        assembly ("memory-safe") {
            mstore(list, n)
        }
        return list;
    }

    /// @dev Collateral still locked: the stored value less the market's count of released
    ///      collateral, modulo 2^96 (the true value is below 2^96: it is at most the stake).
    function _lockedNow(address operator, Operator storage op) private view returns (uint256 lockedNow) {
        (uint256 released,) = _ledger(operator);
        unchecked {
            lockedNow = uint96(op.locked - uint96(released));
        }
    }

    /// @dev The market's count for `operator`: collateral it released (modulo 2^96) and tasks it
    ///      paid. Zero before a market is bound.
    function _ledger(address operator) private view returns (uint256 released, uint256 paid) {
        address m = market;
        if (m == address(0)) return (0, 0);
        (released, paid) = ICollateralLedger(m).collateralOf(operator);
    }

    function _isEligible(Operator storage op) private view returns (bool) {
        return op.registered && op.jailedUntil <= block.timestamp && op.stake >= minStake;
    }

    /// @dev Adds or removes `operator` from the eligible set so that membership equals
    ///      `_isEligible` now. Constant time: append, or move the last member into the slot.
    function _sync(address operator, Operator storage op) private {
        bool should = _isEligible(op);
        uint256 slot = eligibleSlot[operator];
        if (should == (slot != 0)) return;
        if (should) {
            eligible.push(operator);
            eligibleSlot[operator] = eligible.length;
            eligibleSince[operator] = block.number;
        } else {
            uint256 last = eligible.length;
            if (slot != last) {
                address moved = eligible[last - 1];
                eligible[slot - 1] = moved;
                eligibleSlot[moved] = slot;
            }
            eligible.pop();
            delete eligibleSlot[operator];
        }
        emit EligibilityChanged(operator, should);
    }

    function _registered(address operator) private view returns (Operator storage op) {
        op = operators[operator];
        if (!op.registered) revert NotRegistered(operator);
    }

    function _setMetadata(
        Operator storage op,
        address signer,
        bytes32 hardwareHash,
        bytes calldata metadataCid,
        uint32 region,
        uint64 capabilities
    ) private {
        if (signer == address(0)) revert ZeroAddress();
        if (metadataCid.length > MAX_METADATA_CID_BYTES) {
            revert MetadataTooLong(metadataCid.length, MAX_METADATA_CID_BYTES);
        }
        op.signer = signer;
        op.region = region;
        op.capabilities = capabilities;
        op.hardwareHash = hardwareHash;
        op.metadataCid = metadataCid;
    }
}
