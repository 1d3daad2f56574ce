// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title VerifierRegistry
/// @notice Names result verifiers (for example one Groth16 verifier per circuit) by an id. The
///         TaskMarket reads the verifier address when a ZkProof task is created and keeps that
///         snapshot, so changing the registry never changes the rules of a task already funded.
contract VerifierRegistry is Ownable2Step {
    error ZeroAddress();
    error ZeroVerifierId();
    error UnknownVerifier(bytes32 verifierId);

    event VerifierSet(bytes32 indexed verifierId, address verifier);

    mapping(bytes32 => address) private verifiers;

    constructor(address owner_) Ownable(owner_) {}

    /// @notice Registers or replaces a verifier; address(0) removes it.
    function setVerifier(bytes32 verifierId, address verifier) external onlyOwner {
        if (verifierId == bytes32(0)) revert ZeroVerifierId();
        verifiers[verifierId] = verifier;
        emit VerifierSet(verifierId, verifier);
    }

    function verifierOf(bytes32 verifierId) external view returns (address verifier) {
        verifier = verifiers[verifierId];
        if (verifier == address(0)) revert UnknownVerifier(verifierId);
    }
}
