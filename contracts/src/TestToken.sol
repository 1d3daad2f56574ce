// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice The ERC20 that devnets and tests stake and pay in. Anyone may mint: it is a faucet
///         for development chains and must never be deployed where it would carry value.
contract TestToken is ERC20 {
    constructor() ERC20("Verity Test Token", "tVRT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
