//! The test contract, in hand-written bytecode.
//!
//! - empty calldata: returns storage slot 0;
//! - first byte `0xff`: reverts with the rest of the calldata as revert data;
//! - first byte `0xbb`: returns `(blockhash(number - 1), number, timestamp)`;
//! - otherwise: stores the first word `v` in slot 0 and emits `LOG2(STORED, v)`.

use alloy::primitives::{B256, keccak256};

use crate::asm::{Item::*, *};

/// Topic 0 of the log `store` emits.
pub(crate) fn stored_topic() -> B256 {
    keccak256("Stored(uint256)")
}

pub(crate) fn runtime() -> Vec<u8> {
    assemble(&[
        Op(CALLDATASIZE),
        Op(ISZERO),
        Addr("read"),
        Op(JUMPI),
        // first byte of the calldata
        Push(vec![0]),
        Op(CALLDATALOAD),
        Push(vec![0xf8]),
        Op(SHR),
        Op(DUP1),
        Push(vec![0xff]),
        Op(EQ),
        Addr("revert"),
        Op(JUMPI),
        Op(DUP1),
        Push(vec![0xbb]),
        Op(EQ),
        Addr("blockhash"),
        Op(JUMPI),
        Op(POP),
        // store + log
        Push(vec![0]),
        Op(CALLDATALOAD),
        Op(DUP1),
        Push(vec![0]),
        Op(SSTORE),
        Push(stored_topic().to_vec()),
        Push(vec![0]),
        Push(vec![0]),
        Op(LOG2),
        Op(STOP),
        // return slot 0
        Label("read"),
        Push(vec![0]),
        Op(SLOAD),
        Push(vec![0]),
        Op(MSTORE),
        Push(vec![0x20]),
        Push(vec![0]),
        Op(RETURN),
        // revert with calldata[1..]
        Label("revert"),
        Op(CALLDATASIZE),
        Push(vec![1]),
        Op(SWAP1),
        Op(SUB),
        Op(DUP1),
        Push(vec![1]),
        Push(vec![0]),
        Op(CALLDATACOPY),
        Push(vec![0]),
        Op(REVERT),
        // (blockhash(number - 1), number, timestamp)
        Label("blockhash"),
        Push(vec![1]),
        Op(NUMBER),
        Op(SUB),
        Op(BLOCKHASH),
        Push(vec![0]),
        Op(MSTORE),
        Op(NUMBER),
        Push(vec![0x20]),
        Op(MSTORE),
        Op(TIMESTAMP),
        Push(vec![0x40]),
        Op(MSTORE),
        Push(vec![0x60]),
        Push(vec![0]),
        Op(RETURN),
    ])
}

pub(crate) fn initcode() -> Vec<u8> {
    deployer(&runtime())
}
