// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {NodeRegistry} from "./NodeRegistry.sol";

/// @title DisputeCourt
/// @notice Decides whether a challenged optimistic result stands. The market opens a case when a
///         result is challenged and asks for the verdict when it settles the task; money for the
///         task itself (bounty, collateral, the challenger's bond) never leaves the market. The
///         court owns only what concerns the committee: who sits on it, their ballots, their
///         locked collateral, their pay and their penalties.
///
/// A case runs through these phases (docs/protocol.md, "Disputes"):
///  1. Drawing: members are drawn in rounds, stake-weighted, from the registry's eligible set as
///     it was when the case opened (its size and the opening block are snapshotted; later
///     joiners are skipped), never the operator, the challenger or the client. A round's seed is
///     the hash of a block mined after the call that armed it; an expired hash re-arms instead
///     of falling back to one the caller can time. Each drawn member locks `memberBond` of free
///     stake; one that cannot is skipped. A committee short after `MAX_DRAW_ROUNDS` rounds
///     votes as it is.
///  2. Voting by commit-reveal: each member commits to the digest it computed, then reveals it
///     after every member committed or the commit deadline passed, so no member can copy
///     another's digest.
///  3. Tally: a strict majority of the drawn committee for the operator's digest upholds the
///     result; a strict majority against it overturns it. Anything else (no committee, a split,
///     members that stayed idle) escalates to the arbiter, a governance-appointed address that
///     decides within `arbiterWindow`; if it does not, the verdict is Neutral: nobody is slashed.
///  4. Close (called by the market as it settles): members that revealed the verdict's side get
///     their bond back and an equal share of the pot (the market's share of what the losing side
///     forfeits, plus the penalties below); members that stayed idle or voted against the
///     verdict lose `MEMBER_PENALTY_BPS` of their bond into the pot. On a Neutral verdict idle
///     members still lose their penalty (to the treasury) and voters are released. What nobody
///     earned is credited here to the market's treasury, which withdraws it like a member.
///
/// Money: the court's token balance equals the sum of the withdrawable balances it records.
/// Penalties arrive from the registry (`releaseWithFee` sends the forfeited stake here); the
/// market's share arrives by transfer in the same transaction as `close`.
contract DisputeCourt is Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Phase {
        None,
        Drawing,
        Voting,
        Escalated,
        Decided,
        Closed
    }

    enum Verdict {
        Pending,
        Upheld, // the operator's result stands
        Overturned, // the operator's result is wrong
        Neutral // nobody decided: nobody is slashed
    }

    /// @notice What a case fixed when it opened, so no governance change reaches it.
    struct Snapshot {
        uint8 size; // committeeSize
        uint32 poolSize; // eligible-set size: draws index below it
        uint64 openBlock; // members that joined the eligible set at or after it are skipped
        uint32 window; // seconds for the draw, and again for the commit phase
        uint32 revealWindow;
        uint32 arbiterWindow;
        uint96 minStake; // the registry's minStake
        uint96 memberBond; // collateral each member locks
    }

    /// @notice Ballots counted so far.
    struct Votes {
        uint8 committed; // members that committed
        uint8 revealed; // members that revealed
        uint8 agree; // revealed the operator's digest
        uint8 disagree; // revealed another digest
    }

    /// @notice A case.
    struct Case {
        address operator;
        Phase phase;
        Verdict verdict;
        uint8 rounds; // draw rounds done
        bool voting; // the committee reached the voting phase (members had a chance to vote)
        bool byArbiter; // the verdict came from the arbiter
        address challenger;
        uint40 seedBlock; // the next draw round's seed is this block's hash
        uint32 drawDeadline; // draws run until here
        address client;
        uint32 commitDeadline;
        uint32 revealDeadline;
        uint32 arbiterDeadline; // set when the case escalates
        bytes32 claimed; // the operator's digest
        Snapshot snap;
        Votes votes;
        address[] committee;
    }

    error ZeroAddress();
    error NotMarket(address caller);
    error NotArbiter(address caller);
    error MarketAlreadySet(address market);
    error ParameterOutOfRange(uint256 value, uint256 min, uint256 max);
    error CaseExists(uint256 taskId);
    error UnknownCase(uint256 taskId);
    error WrongPhase(uint256 taskId, Phase phase);
    error DrawClosed(uint256 taskId, uint256 deadline);
    error SeedNotReady(uint256 taskId, uint256 seedBlock);
    error NotCommitteeMember(uint256 taskId, address caller);
    error ZeroCommitment();
    error ZeroDigest();
    error AlreadyCommitted(uint256 taskId, address member);
    error CommitDeadlinePassed(uint256 taskId, uint256 deadline);
    error RevealTooEarly(uint256 taskId, uint256 commitDeadline);
    error RevealDeadlinePassed(uint256 taskId, uint256 deadline);
    error NotCommitted(uint256 taskId, address member);
    error CommitmentMismatch(uint256 taskId, address member);
    error TooEarly(uint256 taskId, uint256 notBefore);
    error ArbiterWindowClosed(uint256 taskId, uint256 deadline);
    error NothingToWithdraw(address account);

    event MarketSet(address indexed market);
    event ParamsSet(uint8 committeeSize, uint32 window, uint32 revealWindow);
    event ArbiterSet(address indexed arbiter, uint32 arbiterWindow);
    /// @notice The evidence a reviewer needs: both sides, the program and the input.
    event CaseOpened(
        uint256 indexed taskId,
        address indexed operator,
        address indexed challenger,
        bytes32 claimed,
        bytes32 programDigest,
        bytes32 inputDigest,
        uint256 drawDeadline
    );
    event SeedArmed(uint256 indexed taskId, uint256 seedBlock, uint256 membersSoFar);
    event MemberSkipped(uint256 indexed taskId, address indexed member);
    event CommitteeDrawn(
        uint256 indexed taskId, bytes32 seed, address[] committee, uint256 commitDeadline, uint256 revealDeadline
    );
    event BallotCommitted(uint256 indexed taskId, address indexed member);
    event BallotRevealed(uint256 indexed taskId, address indexed member, bytes32 resultDigest, bool agrees);
    event Escalated(uint256 indexed taskId, uint8 agree, uint8 disagree, uint256 committee, uint256 arbiterDeadline);
    event Decided(uint256 indexed taskId, Verdict verdict, bool byArbiter, uint8 agree, uint8 disagree);
    event CaseClosed(uint256 indexed taskId, Verdict verdict, uint256 paidMembers, uint256 payEach, uint256 toTreasury);
    event MemberPenalised(uint256 indexed taskId, address indexed member, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    uint8 public constant MAX_COMMITTEE = 15;
    uint8 public constant MIN_COMMITTEE = 3;
    uint32 public constant MIN_WINDOW = 10;
    uint32 public constant MAX_WINDOW = 7 days;
    uint8 public constant MAX_DRAW_ROUNDS = 4;
    uint256 public constant DRAW_TRIES_PER_SEAT = 8;
    /// @notice Share of a member's bond it loses for not revealing, or revealing against the
    ///         verdict.
    uint16 public constant MEMBER_PENALTY_BPS = 5_000;

    /// @dev Ballot words: 0 = nothing; a commitment (bit 255 set); AGREE / DISAGREE once revealed.
    uint256 private constant AGREE = 1;
    uint256 private constant DISAGREE = 2;
    uint256 private constant COMMITTED_BIT = 1 << 255;

    IERC20 public immutable token;
    NodeRegistry public immutable registry;
    address public market;
    /// @notice Decides escalated cases (a multisig or governance address; zero: none).
    address public arbiter;
    uint32 public arbiterWindow;
    uint8 public committeeSize;
    uint32 public window;
    uint32 public revealWindow;

    mapping(uint256 => Case) private cases;
    mapping(uint256 => mapping(address => uint256)) private ballots;
    mapping(address => uint256) public balanceOf;

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
        _;
    }

    constructor(
        address owner_,
        IERC20 token_,
        NodeRegistry registry_,
        uint8 committeeSize_,
        uint32 window_,
        uint32 revealWindow_,
        address arbiter_,
        uint32 arbiterWindow_
    ) Ownable(owner_) {
        if (address(token_) == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        token = token_;
        registry = registry_;
        _setParams(committeeSize_, window_, revealWindow_);
        _setArbiter(arbiter_, arbiterWindow_);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Binds the market once; only it opens and closes cases.
    function setMarket(address market_) external onlyOwner {
        if (market != address(0)) revert MarketAlreadySet(market);
        if (market_ == address(0)) revert ZeroAddress();
        market = market_;
        emit MarketSet(market_);
    }

    /// @notice Applies to cases opened afterwards; every case keeps its snapshot.
    function setParams(uint8 size, uint32 window_, uint32 revealWindow_) external onlyOwner {
        _setParams(size, window_, revealWindow_);
    }

    /// @notice The arbiter (zero: escalated cases always end Neutral) and its window. The
    ///         arbiter address applies at once, to every escalated case; the window applies to
    ///         cases opened afterwards (each case snapshots it when it opens).
    function setArbiter(address arbiter_, uint32 arbiterWindow_) external onlyOwner {
        _setArbiter(arbiter_, arbiterWindow_);
    }

    // ---------------------------------------------------------------- market

    /// @notice Opens the case of a challenged result and arms the first draw round.
    function open(
        uint256 taskId,
        address operator,
        address challenger,
        address client,
        bytes32 claimed,
        uint256 collateral,
        bytes32 programDigest,
        bytes32 inputDigest
    ) external onlyMarket {
        Case storage c = cases[taskId];
        if (c.phase != Phase.None) revert CaseExists(taskId);
        c.phase = Phase.Drawing;
        c.operator = operator;
        c.challenger = challenger;
        c.client = client;
        c.claimed = claimed;
        uint8 size = committeeSize;
        c.snap = Snapshot({
            size: size,
            poolSize: uint32(registry.eligibleCount()),
            openBlock: uint64(block.number),
            window: window,
            revealWindow: revealWindow,
            arbiterWindow: arbiterWindow,
            minStake: registry.minStake(),
            memberBond: uint96(collateral / size)
        });
        c.seedBlock = uint40(block.number + 1);
        uint256 deadline = block.timestamp + window;
        c.drawDeadline = uint32(deadline);
        emit CaseOpened(taskId, operator, challenger, claimed, programDigest, inputDigest, deadline);
    }

    /// @notice Closes a decided case (or an escalated one whose arbiter window passed, which
    ///         becomes Neutral), settles the members and returns the verdict. The market
    ///         transfers the pot of the verdict (`upheldPot` or `overturnedPot`) to the court in
    ///         the same transaction; on Neutral it transfers nothing.
    function close(uint256 taskId, uint256 upheldPot, uint256 overturnedPot)
        external
        onlyMarket
        nonReentrant
        returns (Verdict v)
    {
        Case storage c = _case(taskId);
        if (c.phase == Phase.Escalated) {
            if (block.timestamp <= c.arbiterDeadline) revert TooEarly(taskId, uint256(c.arbiterDeadline) + 1);
            c.verdict = Verdict.Neutral;
            emit Decided(taskId, Verdict.Neutral, false, c.votes.agree, c.votes.disagree);
        } else if (c.phase != Phase.Decided) {
            revert WrongPhase(taskId, c.phase);
        }
        c.phase = Phase.Closed;
        v = c.verdict;
        _settleMembers(taskId, c, v, v == Verdict.Upheld ? upheldPot : v == Verdict.Overturned ? overturnedPot : 0);
    }

    // ---------------------------------------------------------------- anyone

    /// @notice Draws one round of the committee (see the contract doc). Anyone may call while
    ///         the case is drawing and before its draw deadline.
    function draw(uint256 taskId) external {
        Case storage c = _case(taskId);
        if (c.phase != Phase.Drawing) revert WrongPhase(taskId, c.phase);
        if (block.timestamp > c.drawDeadline) revert DrawClosed(taskId, c.drawDeadline);
        uint256 seedBlock = c.seedBlock;
        if (block.number <= seedBlock) revert SeedNotReady(taskId, seedBlock);
        bytes32 blockSeed = blockhash(seedBlock);
        if (blockSeed == bytes32(0)) {
            _armSeed(taskId, c);
            return;
        }
        bytes32 seed = keccak256(abi.encode(blockSeed, taskId, c.rounds));
        _drawRound(taskId, c, seed);
        c.rounds += 1;
        if (c.committee.length < c.snap.size && c.rounds < MAX_DRAW_ROUNDS) {
            _armSeed(taskId, c);
            return;
        }
        c.phase = Phase.Voting;
        c.voting = true;
        uint256 commitDeadline = block.timestamp + c.snap.window;
        uint256 revealDeadline = commitDeadline + c.snap.revealWindow;
        c.commitDeadline = uint32(commitDeadline);
        c.revealDeadline = uint32(revealDeadline);
        emit CommitteeDrawn(taskId, seed, c.committee, commitDeadline, revealDeadline);
    }

    /// @notice Counts the ballots once every member revealed, the reveal deadline passed, or
    ///         (for a committee never completed) the draw deadline passed: decides, or escalates
    ///         to the arbiter.
    function tally(uint256 taskId) external {
        Case storage c = _case(taskId);
        uint256 n = c.committee.length;
        if (c.phase == Phase.Drawing) {
            if (block.timestamp <= c.drawDeadline) revert TooEarly(taskId, uint256(c.drawDeadline) + 1);
        } else if (c.phase == Phase.Voting) {
            if (c.votes.revealed < n && block.timestamp <= c.revealDeadline) {
                revert TooEarly(taskId, uint256(c.revealDeadline) + 1);
            }
        } else {
            revert WrongPhase(taskId, c.phase);
        }
        Votes memory v = c.votes;
        if (n > 0 && uint256(v.agree) * 2 > n) {
            _decide(taskId, c, Verdict.Upheld, false);
        } else if (n > 0 && uint256(v.disagree) * 2 > n) {
            _decide(taskId, c, Verdict.Overturned, false);
        } else {
            c.phase = Phase.Escalated;
            uint256 deadline = block.timestamp + c.snap.arbiterWindow;
            c.arbiterDeadline = uint32(deadline);
            emit Escalated(taskId, v.agree, v.disagree, n, deadline);
        }
    }

    // ---------------------------------------------------------------- members

    /// @notice A member commits to the digest it computed:
    ///         `ballotOf(taskId, member, digest, salt)`.
    function commit(uint256 taskId, bytes32 commitment) external {
        Case storage c = _case(taskId);
        if (c.phase != Phase.Voting) revert WrongPhase(taskId, c.phase);
        if (block.timestamp > c.commitDeadline) revert CommitDeadlinePassed(taskId, c.commitDeadline);
        if (commitment == bytes32(0)) revert ZeroCommitment();
        if (!_inCommittee(c, msg.sender)) revert NotCommitteeMember(taskId, msg.sender);
        if (ballots[taskId][msg.sender] != 0) revert AlreadyCommitted(taskId, msg.sender);
        ballots[taskId][msg.sender] = uint256(commitment) | COMMITTED_BIT;
        c.votes.committed += 1;
        emit BallotCommitted(taskId, msg.sender);
    }

    /// @notice A member reveals its digest, once every member committed or the commit deadline
    ///         passed, and before the reveal deadline.
    function reveal(uint256 taskId, bytes32 resultDigest, bytes32 salt) external {
        Case storage c = _case(taskId);
        if (c.phase != Phase.Voting) revert WrongPhase(taskId, c.phase);
        if (c.votes.committed < c.committee.length && block.timestamp <= c.commitDeadline) {
            revert RevealTooEarly(taskId, c.commitDeadline);
        }
        if (block.timestamp > c.revealDeadline) revert RevealDeadlinePassed(taskId, c.revealDeadline);
        if (resultDigest == bytes32(0)) revert ZeroDigest();
        uint256 b = ballots[taskId][msg.sender];
        if (b & COMMITTED_BIT == 0) revert NotCommitted(taskId, msg.sender);
        if (b != uint256(ballotOf(taskId, msg.sender, resultDigest, salt)) | COMMITTED_BIT) {
            revert CommitmentMismatch(taskId, msg.sender);
        }
        bool agrees = resultDigest == c.claimed;
        ballots[taskId][msg.sender] = agrees ? AGREE : DISAGREE;
        Votes memory v = c.votes;
        v.revealed += 1;
        if (agrees) v.agree += 1;
        else v.disagree += 1;
        c.votes = v;
        emit BallotRevealed(taskId, msg.sender, resultDigest, agrees);
    }

    /// @notice Pays out the caller's whole balance.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        balanceOf[msg.sender] = 0;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- arbiter

    /// @notice The arbiter decides an escalated case before its arbiter deadline.
    function arbitrate(uint256 taskId, bool overturn) external {
        if (msg.sender != arbiter || arbiter == address(0)) revert NotArbiter(msg.sender);
        Case storage c = _case(taskId);
        if (c.phase != Phase.Escalated) revert WrongPhase(taskId, c.phase);
        if (block.timestamp > c.arbiterDeadline) revert ArbiterWindowClosed(taskId, c.arbiterDeadline);
        _decide(taskId, c, overturn ? Verdict.Overturned : Verdict.Upheld, true);
    }

    // ---------------------------------------------------------------- views

    function caseOf(uint256 taskId) external view returns (Case memory) {
        return cases[taskId];
    }

    /// @notice A member's ballot word: 0 none, 1 revealed agreeing, 2 revealed disagreeing,
    ///         otherwise committed (bit 255 set).
    function ballotWord(uint256 taskId, address member) external view returns (uint256) {
        return ballots[taskId][member];
    }

    /// @notice The commitment a member posts for `resultDigest` with `salt`.
    function ballotOf(uint256 taskId, address member, bytes32 resultDigest, bytes32 salt)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), taskId, member, resultDigest, salt));
    }

    // ---------------------------------------------------------------- internals

    function _case(uint256 taskId) private view returns (Case storage c) {
        c = cases[taskId];
        if (c.phase == Phase.None) revert UnknownCase(taskId);
    }

    function _decide(uint256 taskId, Case storage c, Verdict v, bool byArbiter) private {
        c.phase = Phase.Decided;
        c.verdict = v;
        c.byArbiter = byArbiter;
        emit Decided(taskId, v, byArbiter, c.votes.agree, c.votes.disagree);
    }

    function _armSeed(uint256 taskId, Case storage c) private {
        uint256 next = block.number + 1;
        c.seedBlock = uint40(next);
        emit SeedArmed(taskId, next, c.committee.length);
    }

    /// @dev One draw round: the registry picks up to the missing members, stake-weighted, from
    ///      its eligible set as it was at the opening; each pick locks its bond or is skipped.
    function _drawRound(uint256 taskId, Case storage c, bytes32 seed) private {
        uint256 have = c.committee.length;
        uint256 want = c.snap.size;
        if (have >= want) return;
        address[] memory exclude = new address[](have + 3);
        exclude[0] = c.operator;
        exclude[1] = c.challenger;
        exclude[2] = c.client;
        for (uint256 i = 0; i < have; ++i) {
            exclude[i + 3] = c.committee[i];
        }
        address[] memory picked = registry.drawEligible(
            seed, c.snap.poolSize, c.snap.openBlock, c.snap.minStake, want - have, (want - have) * DRAW_TRIES_PER_SEAT, exclude
        );
        uint256 bond = c.snap.memberBond;
        for (uint256 i = 0; i < picked.length; ++i) {
            address m = picked[i];
            if (bond != 0) {
                try registry.lockMemberCollateral(m, bond) {}
                catch {
                    emit MemberSkipped(taskId, m);
                    continue;
                }
            }
            c.committee.push(m);
        }
    }

    /// @dev Releases every member's bond: in full to those that revealed the verdict's side,
    ///      less the penalty for the others (or, on Neutral, for the idle; a committee that
    ///      never reached voting is released in full). The pot (`pot` plus penalties) is split
    ///      equally among the paid members; what nobody earned (no such member, the division
    ///      remainder) goes to the market's treasury.
    function _settleMembers(uint256 taskId, Case storage c, Verdict v, uint256 pot) private {
        uint256 n = c.committee.length;
        uint256 bond = c.snap.memberBond;
        uint256 penalty = bond * MEMBER_PENALTY_BPS / 10_000;
        uint256 winning = v == Verdict.Upheld ? AGREE : v == Verdict.Overturned ? DISAGREE : 0;
        address[] memory paid = new address[](n);
        uint256 w;
        for (uint256 i = 0; i < n; ++i) {
            address m = c.committee[i];
            uint256 b = ballots[taskId][m];
            bool revealed = b == AGREE || b == DISAGREE;
            bool punish = c.voting && (winning == 0 ? !revealed : b != winning);
            if (bond != 0) {
                if (punish && penalty != 0) {
                    registry.releaseWithFee(m, bond, penalty);
                    pot += penalty;
                    emit MemberPenalised(taskId, m, penalty);
                } else {
                    registry.releaseCollateral(m, bond, !punish);
                }
            }
            if (winning != 0 && b == winning) paid[w++] = m;
        }
        uint256 each = w == 0 ? 0 : pot / w;
        for (uint256 i = 0; i < w; ++i) {
            balanceOf[paid[i]] += each;
        }
        uint256 rest = pot - each * w;
        if (rest != 0) balanceOf[TreasuryOf(market).treasury()] += rest;
        emit CaseClosed(taskId, v, w, each, rest);
    }

    function _inCommittee(Case storage c, address who) private view returns (bool) {
        uint256 n = c.committee.length;
        for (uint256 i = 0; i < n; ++i) {
            if (c.committee[i] == who) return true;
        }
        return false;
    }

    function _setParams(uint8 size, uint32 window_, uint32 revealWindow_) private {
        if (size < MIN_COMMITTEE || size > MAX_COMMITTEE) revert ParameterOutOfRange(size, MIN_COMMITTEE, MAX_COMMITTEE);
        if (window_ < MIN_WINDOW || window_ > MAX_WINDOW) revert ParameterOutOfRange(window_, MIN_WINDOW, MAX_WINDOW);
        if (revealWindow_ < MIN_WINDOW || revealWindow_ > MAX_WINDOW) {
            revert ParameterOutOfRange(revealWindow_, MIN_WINDOW, MAX_WINDOW);
        }
        committeeSize = size;
        window = window_;
        revealWindow = revealWindow_;
        emit ParamsSet(size, window_, revealWindow_);
    }

    function _setArbiter(address arbiter_, uint32 arbiterWindow_) private {
        if (arbiterWindow_ < MIN_WINDOW || arbiterWindow_ > MAX_WINDOW) {
            revert ParameterOutOfRange(arbiterWindow_, MIN_WINDOW, MAX_WINDOW);
        }
        arbiter = arbiter_;
        arbiterWindow = arbiterWindow_;
        emit ArbiterSet(arbiter_, arbiterWindow_);
    }
}

/// @dev The one thing the court reads from the market.
interface TreasuryOf {
    function treasury() external view returns (address);
}
