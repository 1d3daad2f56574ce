// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title VerityTimelock
/// @notice The owner of the registry, the market and the verifier registry: every governance
///         action (fees, treasury, coordinators, dispute parameters, minimum stake, verifiers)
///         is scheduled in public and runs only after `getMinDelay()` seconds, so clients and
///         operators see it coming. OpenZeppelin's `TimelockController`, unchanged; this file
///         only gives it a name the deployment can compile and bind.
contract VerityTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
