// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IResultVerifier} from "../interfaces/IResultVerifier.sol";

/// @notice The generated Groth16 verifiers of the sensor-aggregate circuit (three public inputs).
interface ISensorGroth16Verifier {
    function verifyProof(uint256[8] calldata proof, uint256[3] calldata input) external view returns (bool);
}

/// @title SensorAggregateVerifier
/// @notice IResultVerifier for ZkProof tasks over signed DePIN sensor readings (crates/zk/README.md).
///         Mapping of the market's arguments onto the circuit's public inputs:
///         - programDigest must equal PROGRAM_DIGEST (sha256 of the circuit's verifying key),
///         - inputDigest   = Poseidon(registryRoot, windowStart, windowEnd, rangeMin, rangeMax),
///         - resultDigest  = Poseidon(count, sum, min, max) of the accepted readings,
///         - binding       = keccak256(chainid, market, taskId, operator), reduced modulo R.
///         Digests at or above R are not reduced: the verifier rejects them.
contract SensorAggregateVerifier is IResultVerifier {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    ISensorGroth16Verifier public immutable VERIFIER;
    bytes32 public immutable PROGRAM_DIGEST;

    constructor(ISensorGroth16Verifier verifier, bytes32 programDigest) {
        VERIFIER = verifier;
        PROGRAM_DIGEST = programDigest;
    }

    /// @inheritdoc IResultVerifier
    function verifyResult(
        bytes32 programDigest,
        bytes32 inputDigest,
        bytes32 resultDigest,
        bytes32 binding,
        bytes calldata proof
    ) external view returns (bool) {
        if (programDigest != PROGRAM_DIGEST || proof.length != 256) return false;
        uint256[8] memory p = abi.decode(proof, (uint256[8]));
        return VERIFIER.verifyProof(p, [uint256(inputDigest), uint256(resultDigest), uint256(binding) % R]);
    }
}
