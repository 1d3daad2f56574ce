// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IResultVerifier
/// @notice A verifier that the TaskMarket asks whether a proof shows that `resultDigest` is the
///         output of `programDigest` on `inputDigest`. `binding` ties the proof to one task on one
///         market on one chain and to the operator that submits it, so that a proof cannot be
///         copied to another task or claimed by another operator:
///         binding = keccak256(abi.encode(block.chainid, market, taskId, operator)).
interface IResultVerifier {
    function verifyResult(
        bytes32 programDigest,
        bytes32 inputDigest,
        bytes32 resultDigest,
        bytes32 binding,
        bytes calldata proof
    ) external view returns (bool);
}
