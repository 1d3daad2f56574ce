// Hardhat is used only as a third-party JSON-RPC node for compatibility tests
// (scripts/hardhat-compat.sh). Contracts are compiled by scripts/compile.js, not by Hardhat.
module.exports = {
  paths: { sources: './hardhat-no-sources', cache: './cache/hardhat', artifacts: './cache/hardhat-artifacts' },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: 'cancun',
      accounts: { count: 22 },
    },
  },
};
