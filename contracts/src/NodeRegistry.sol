// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title NodeRegistry
/// @notice Operator identity, stake, collateral locks and slashing.
///
/// Stake accounting: `stake` is bonded stake. Part of it can be `locked` as collateral by the
/// market while a task is open; locked stake can only leave through the market (released back to
/// free stake, or slashed). Free stake (`stake - locked`) can be moved to `unbonding` and, after
/// `unbondingDelay`, withdrawn. Unbonding stake is never locked, so nothing that may still be
/// slashed can ever be withdrawn. The token balance of this contract always equals the sum of
/// all `stake + unbonding`.
contract NodeRegistry is Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_METADATA_CID_BYTES = 96;
    uint256 public constant MAX_UNBONDING_DELAY = 30 days;
    uint256 public constant MAX_JAIL_DURATION = 30 days;

    struct Operator {
        // slot 0
        address signer; // node signing key: heartbeats, attestations
        uint32 region; // ISO 3166-1 numeric code, or 0 for "unspecified"
        uint64 capabilities; // bit flags (see docs/protocol.md)
        // slot 1: everything the market touches per task lives here, so a lock or release is
        // one storage write
        uint96 stake;
        uint96 locked;
        uint32 tasksCompleted;
        uint32 tasksFailed;
        // slot 2
        uint96 unbonding;
        uint40 unbondingReadyAt;
        uint40 jailedUntil;
        uint32 timesSlashed;
        bool registered;
        // slot 3..
        bytes32 hardwareHash;
        bytes metadataCid;
    }

    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error NotMarket(address caller);
    error MarketAlreadySet(address market);
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

    event MarketSet(address indexed market);
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

    IERC20 public immutable token;
    // `market` and `minStake` share a slot: a collateral lock reads both with one access.
    address public market;
    uint96 public minStake;
    uint256 public unbondingDelay;
    uint256 public jailDuration;

    mapping(address => Operator) private operators;
    /// @notice Every operator that ever registered, in registration order (for committee draws).
    address[] public operatorList;

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
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
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, newStake);
    }

    /// @notice Moves free stake to unbonding. Restarts the unbonding clock for the whole
    ///         unbonding amount.
    function requestUnstake(uint256 amount) external {
        Operator storage op = _registered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 free = uint256(op.stake) - op.locked;
        if (amount > free) revert InsufficientFreeStake(msg.sender, free, amount);
        if (amount > type(uint96).max - op.unbonding) revert AmountTooLarge(amount);
        op.stake -= uint96(amount);
        op.unbonding += uint96(amount);
        uint256 readyAt = block.timestamp + unbondingDelay;
        op.unbondingReadyAt = uint40(readyAt);
        emit UnstakeRequested(msg.sender, amount, op.unbonding, readyAt);
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
    function lockCollateral(address operator, uint256 amount) external onlyMarket {
        Operator storage op = _registered(operator);
        if (op.jailedUntil > block.timestamp) revert OperatorJailed(operator, op.jailedUntil);
        if (op.stake < minStake) revert BelowMinimumStake(operator, op.stake, minStake);
        uint256 free = uint256(op.stake) - op.locked;
        if (amount > free) revert InsufficientFreeStake(operator, free, amount);
        op.locked += uint96(amount);
        emit CollateralLocked(operator, amount, op.locked);
    }

    /// @notice Returns collateral to free stake and counts the task as completed or failed.
    function releaseCollateral(address operator, uint256 amount, bool completed) external onlyMarket {
        Operator storage op = operators[operator];
        if (amount > op.locked) revert CollateralUnderflow(operator, op.locked, amount);
        op.locked -= uint96(amount);
        if (completed) op.tasksCompleted += 1;
        else op.tasksFailed += 1;
        emit CollateralReleased(operator, amount, completed);
    }

    /// @notice Takes `amount` of locked collateral, sends it to the market and jails the operator.
    function slash(address operator, uint256 amount) external onlyMarket nonReentrant {
        Operator storage op = operators[operator];
        if (amount > op.locked) revert CollateralUnderflow(operator, op.locked, amount);
        op.locked -= uint96(amount);
        op.stake -= uint96(amount);
        op.tasksFailed += 1;
        op.timesSlashed += 1;
        uint256 until = block.timestamp + jailDuration;
        if (until > op.jailedUntil) op.jailedUntil = uint40(until);
        token.safeTransfer(msg.sender, amount);
        emit Slashed(operator, amount, op.jailedUntil);
    }

    // ---------------------------------------------------------------- views

    function getOperator(address operator) external view returns (Operator memory) {
        return operators[operator];
    }

    function operatorCount() external view returns (uint256) {
        return operatorList.length;
    }

    function freeStake(address operator) external view returns (uint256) {
        Operator storage op = operators[operator];
        return uint256(op.stake) - op.locked;
    }

    /// @notice Registered, not jailed, and at or above the minimum stake.
    function isEligible(address operator) public view returns (bool) {
        Operator storage op = operators[operator];
        return op.registered && op.jailedUntil <= block.timestamp && op.stake >= minStake;
    }

    // ---------------------------------------------------------------- internals

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
