// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IResultVerifier} from "./interfaces/IResultVerifier.sol";
import {EnclaveRegistry} from "./EnclaveRegistry.sol";

/// @title TeeResultVerifier
/// @notice IResultVerifier for results computed inside an attested TEE. Registered in the
///         VerifierRegistry (id keccak256("tee-v1")), it lets a ZkProof-mode task settle on one
///         enclave-signed result, without replication.
///
///         proof = abi.encode(operator, chainId, market, taskId, signature), where `signature`
///         is the enclave key's EIP-191 signature over
///         keccak256(abi.encode(binding, programDigest, inputDigest, resultDigest)).
///         The verifier recomputes binding = keccak256(abi.encode(chainId, market, taskId,
///         operator)), requires it to equal the market's, recovers the enclave key and asks the
///         EnclaveRegistry that the key is registered to that operator, unexpired, not revoked
///         and still allowed. Every refusal reverts with a typed error (the market bubbles it up);
///         an accepted proof returns true.
contract TeeResultVerifier is IResultVerifier {
    error MalformedProof(uint256 length);
    /// `expected` is the market's binding, `given` the one the proof's fields make.
    error BindingMismatch(bytes32 expected, bytes32 given);
    error InvalidEnclaveSignature();

    EnclaveRegistry public immutable ENCLAVES;

    constructor(EnclaveRegistry enclaves) {
        ENCLAVES = enclaves;
    }

    /// @inheritdoc IResultVerifier
    function verifyResult(
        bytes32 programDigest,
        bytes32 inputDigest,
        bytes32 resultDigest,
        bytes32 binding,
        bytes calldata proof
    ) external view returns (bool) {
        // Four words, the offset and length of `signature`, and its 65 bytes padded to 96.
        if (proof.length != 288) revert MalformedProof(proof.length);
        (address operator, uint256 chainId, address market, uint256 taskId, bytes memory signature) =
            abi.decode(proof, (address, uint256, address, uint256, bytes));
        bytes32 claimed = keccak256(abi.encode(chainId, market, taskId, operator));
        if (claimed != binding) revert BindingMismatch(binding, claimed);
        bytes32 statement = keccak256(abi.encode(binding, programDigest, inputDigest, resultDigest));
        (address key, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(MessageHashUtils.toEthSignedMessageHash(statement), signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidEnclaveSignature();
        ENCLAVES.checkEnclave(key, operator);
        return true;
    }
}
