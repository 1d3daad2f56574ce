// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICollateralLedger
/// @notice What the market tells the registry about collateral it released in its own storage:
///         when a task pays its winners, their collateral is released in the same storage write
///         that credits their reward, instead of a call to the registry per winner.
interface ICollateralLedger {
    /// @return released collateral released for `operator` by the market, ever, modulo 2^96
    /// @return paid tasks the market paid `operator` for (each also released its collateral)
    function collateralOf(address operator) external view returns (uint256 released, uint256 paid);
}
