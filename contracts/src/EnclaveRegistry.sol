// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title EnclaveRegistry
/// @notice Which enclave keys the network trusts, and for which operator.
///
///         An enclave key is an Ethereum address whose secp256k1 key was generated inside a TEE;
///         the TEE's quote commits to it in its report data (crates/tee/src/binding.rs). DCAP
///         quote verification is far too costly on-chain, so governance (the owner, in
///         deployments the VerityTimelock) appoints attestors and a threshold k: each attestor
///         verifies the quote off-chain (crates/tee) and signs an EIP-712 `Attestation`; a
///         registration needs k distinct attestors' signatures. The chain trusts that at most
///         k-1 attestors lie (docs/protocol.md, "TEE attestation").
///
///         Measurements: SGX registers (MRENCLAVE, MRSIGNER); TDX registers
///         (keccak256(MRTD || RTMR0..3), 0); the devnet stand-in (its 32-byte measurement, 0).
///         An enclave is accepted while its measurement is on the measurement allow-list or its
///         signer (non-zero) is on the signer allow-list; this is checked at registration and
///         again at every use, so removing a value revokes every key registered under it.
///
///         Registrations expire after `validity` seconds (or earlier, at the attestation's own
///         expiry): renewal is a new registration with a fresh quote (continuous attestation).
///         A quote is accepted once. A key is bound to its first operator forever; a revoked key
///         is never accepted again (the enclave generates a new one).
contract EnclaveRegistry is Ownable2Step, EIP712 {
    /// What the attestors sign: the quote with hash `quoteHash` verified under their policy, its
    /// report data binds `enclaveKey` for `operator`, its measurements are (`measurement`,
    /// `signer`), and the verdict holds until `expiry` (unix seconds).
    struct Attestation {
        address operator;
        address enclaveKey;
        bytes32 measurement;
        bytes32 signer;
        bytes32 quoteHash;
        uint64 expiry;
    }

    struct Enclave {
        address operator;
        uint64 expiresAt;
        bool revoked;
        bytes32 measurement;
        bytes32 signer;
    }

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address operator,address enclaveKey,bytes32 measurement,bytes32 signer,bytes32 quoteHash,uint64 expiry)"
    );
    /// Bound on the attestor set, so a registration's signature loop stays cheap.
    uint256 public constant MAX_ATTESTORS = 32;

    // --- governance refusals
    error ZeroAddress();
    error ZeroValue();
    error AttestorAlreadySet(address attestor, bool allowed);
    error TooManyAttestors(uint256 max);
    error ThresholdOutOfRange(uint256 threshold, uint256 attestors);
    // --- registration refusals
    error NotOperator(address caller, address operator);
    error AttestationExpired(uint64 expiry, uint256 nowTs);
    error QuoteAlreadyUsed(bytes32 quoteHash);
    error NoThreshold();
    error TooFewSignatures(uint256 given, uint256 threshold);
    error InvalidSignature(uint256 index);
    error NotAttestor(address recovered);
    error DuplicateAttestor(address attestor);
    error AttestorsNotAscending(address attestor, address previous);
    error KeyRevoked(address enclaveKey);
    error KeyOfAnotherOperator(address enclaveKey, address holder, address operator);
    // --- use-time refusals (also raised through TeeResultVerifier)
    error UnknownEnclaveKey(address enclaveKey);
    error RegistrationExpired(address enclaveKey, uint64 expiresAt);
    error MeasurementNotAllowed(bytes32 measurement, bytes32 signer);
    error NotKeyHolder(address enclaveKey);

    event MeasurementSet(bytes32 indexed measurement, bool allowed);
    event SignerSet(bytes32 indexed signer, bool allowed);
    event AttestorSet(address indexed attestor, bool allowed);
    event ThresholdSet(uint256 threshold);
    event ValiditySet(uint64 validity);
    event EnclaveRegistered(
        address indexed enclaveKey,
        address indexed operator,
        bytes32 measurement,
        bytes32 signer,
        bytes32 quoteHash,
        uint64 expiresAt
    );
    event EnclaveRevoked(address indexed enclaveKey, address indexed by);

    mapping(bytes32 => bool) public allowedMeasurement;
    mapping(bytes32 => bool) public allowedSigner;
    mapping(address => bool) public isAttestor;
    uint256 public attestorCount;
    uint256 public threshold;
    uint64 public validity;
    mapping(bytes32 => bool) public quoteUsed;
    mapping(address => Enclave) private enclaves;

    constructor(address owner_, uint64 validity_) Ownable(owner_) EIP712("VerityEnclaveRegistry", "1") {
        if (validity_ == 0) revert ZeroValue();
        validity = validity_;
        emit ValiditySet(validity_);
    }

    // ------------------------------------------------------------------ governance (owner)

    function setMeasurement(bytes32 measurement, bool allowed) external onlyOwner {
        if (measurement == bytes32(0)) revert ZeroValue();
        allowedMeasurement[measurement] = allowed;
        emit MeasurementSet(measurement, allowed);
    }

    function setSigner(bytes32 signer, bool allowed) external onlyOwner {
        if (signer == bytes32(0)) revert ZeroValue();
        allowedSigner[signer] = allowed;
        emit SignerSet(signer, allowed);
    }

    /// @notice Adds or removes an attestor. Removing one may not leave fewer attestors than the
    ///         threshold.
    function setAttestor(address attestor, bool allowed) external onlyOwner {
        if (attestor == address(0)) revert ZeroAddress();
        if (isAttestor[attestor] == allowed) revert AttestorAlreadySet(attestor, allowed);
        uint256 count = allowed ? attestorCount + 1 : attestorCount - 1;
        if (count > MAX_ATTESTORS) revert TooManyAttestors(MAX_ATTESTORS);
        if (threshold > count) revert ThresholdOutOfRange(threshold, count);
        isAttestor[attestor] = allowed;
        attestorCount = count;
        emit AttestorSet(attestor, allowed);
    }

    function setThreshold(uint256 k) external onlyOwner {
        if (k == 0 || k > attestorCount) revert ThresholdOutOfRange(k, attestorCount);
        threshold = k;
        emit ThresholdSet(k);
    }

    function setValidity(uint64 validity_) external onlyOwner {
        if (validity_ == 0) revert ZeroValue();
        validity = validity_;
        emit ValiditySet(validity_);
    }

    // ------------------------------------------------------------------ operators

    /// @notice Registers (or renews) `a.enclaveKey` for the caller, who must be `a.operator`,
    ///         with signatures of at least `threshold` distinct attestors over `a`, sorted by
    ///         ascending attestor address. The registration lasts `validity` seconds, at most
    ///         until `a.expiry`.
    function register(Attestation calldata a, bytes[] calldata signatures) external returns (uint64 expiresAt) {
        if (msg.sender != a.operator) revert NotOperator(msg.sender, a.operator);
        if (a.enclaveKey == address(0)) revert ZeroAddress();
        if (a.expiry <= block.timestamp) revert AttestationExpired(a.expiry, block.timestamp);
        if (quoteUsed[a.quoteHash]) revert QuoteAlreadyUsed(a.quoteHash);
        if (!_allowed(a.measurement, a.signer)) revert MeasurementNotAllowed(a.measurement, a.signer);
        Enclave storage e = enclaves[a.enclaveKey];
        if (e.revoked) revert KeyRevoked(a.enclaveKey);
        if (e.operator != address(0) && e.operator != a.operator) {
            revert KeyOfAnotherOperator(a.enclaveKey, e.operator, a.operator);
        }
        _checkSignatures(_hashTypedDataV4(hashAttestation(a)), signatures);

        uint256 until = block.timestamp + validity;
        expiresAt = until < a.expiry ? uint64(until) : a.expiry;
        quoteUsed[a.quoteHash] = true;
        enclaves[a.enclaveKey] = Enclave({
            operator: a.operator,
            expiresAt: expiresAt,
            revoked: false,
            measurement: a.measurement,
            signer: a.signer
        });
        emit EnclaveRegistered(a.enclaveKey, a.operator, a.measurement, a.signer, a.quoteHash, expiresAt);
    }

    /// @notice Revokes a key for good: by its operator, or by governance.
    function revoke(address enclaveKey) external {
        Enclave storage e = enclaves[enclaveKey];
        if (e.operator == address(0)) revert UnknownEnclaveKey(enclaveKey);
        if (msg.sender != e.operator && msg.sender != owner()) revert NotKeyHolder(enclaveKey);
        if (e.revoked) revert KeyRevoked(enclaveKey);
        e.revoked = true;
        emit EnclaveRevoked(enclaveKey, msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @notice Reverts with the reason unless `enclaveKey` is registered to `operator`, not
    ///         revoked, not expired, and its measurement (or signer) still allowed.
    function checkEnclave(address enclaveKey, address operator) public view {
        Enclave storage e = enclaves[enclaveKey];
        if (e.operator == address(0)) revert UnknownEnclaveKey(enclaveKey);
        if (e.operator != operator) revert KeyOfAnotherOperator(enclaveKey, e.operator, operator);
        if (e.revoked) revert KeyRevoked(enclaveKey);
        if (block.timestamp >= e.expiresAt) revert RegistrationExpired(enclaveKey, e.expiresAt);
        if (!_allowed(e.measurement, e.signer)) revert MeasurementNotAllowed(e.measurement, e.signer);
    }

    function enclaveOf(address enclaveKey) external view returns (Enclave memory) {
        return enclaves[enclaveKey];
    }

    function hashAttestation(Attestation calldata a) public pure returns (bytes32) {
        return keccak256(
            abi.encode(ATTESTATION_TYPEHASH, a.operator, a.enclaveKey, a.measurement, a.signer, a.quoteHash, a.expiry)
        );
    }

    /// @notice The EIP-712 digest attestors sign for `a`.
    function attestationDigest(Attestation calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(hashAttestation(a));
    }

    // ------------------------------------------------------------------ internals

    function _allowed(bytes32 measurement, bytes32 signer) private view returns (bool) {
        return allowedMeasurement[measurement] || (signer != bytes32(0) && allowedSigner[signer]);
    }

    function _checkSignatures(bytes32 digest, bytes[] calldata signatures) private view {
        uint256 k = threshold;
        if (k == 0) revert NoThreshold();
        if (signatures.length < k) revert TooFewSignatures(signatures.length, k);
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            (address who, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (!isAttestor[who]) revert NotAttestor(who);
            if (who == previous) revert DuplicateAttestor(who);
            if (who < previous) revert AttestorsNotAscending(who, previous);
            previous = who;
        }
    }
}
