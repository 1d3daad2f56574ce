// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IResultVerifier} from "../interfaces/IResultVerifier.sol";

/// @title MockResultVerifier
/// @notice A stand-in for a real proof verifier, used only to test the market's ZkProof plumbing
///         before the Groth16 verifiers exist. It accepts exactly one "proof" per statement:
///         keccak256(abi.encode(programDigest, inputDigest, resultDigest, binding)). That keeps the
///         binding checks meaningful: a proof made for another task or operator is rejected.
contract MockResultVerifier is IResultVerifier {
    function verifyResult(
        bytes32 programDigest,
        bytes32 inputDigest,
        bytes32 resultDigest,
        bytes32 binding,
        bytes calldata proof
    ) external pure returns (bool) {
        if (proof.length != 32) return false;
        return bytes32(proof)
            == keccak256(abi.encode(programDigest, inputDigest, resultDigest, binding));
    }
}
