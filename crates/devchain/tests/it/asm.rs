//! A tiny EVM assembler with labels, for hand-written test contracts.

use std::collections::HashMap;

/// One assembly item.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A plain opcode.
    Op(u8),
    /// `PUSHn` of the given bytes (1 to 32 of them).
    Push(Vec<u8>),
    /// A jump destination (emits `JUMPDEST`).
    Label(&'static str),
    /// `PUSH2` of a label's offset.
    Addr(&'static str),
}

pub(crate) const STOP: u8 = 0x00;
pub(crate) const SUB: u8 = 0x03;
pub(crate) const EQ: u8 = 0x14;
pub(crate) const ISZERO: u8 = 0x15;
pub(crate) const SHR: u8 = 0x1c;
pub(crate) const CALLDATALOAD: u8 = 0x35;
pub(crate) const CALLDATASIZE: u8 = 0x36;
pub(crate) const CALLDATACOPY: u8 = 0x37;
pub(crate) const CODECOPY: u8 = 0x39;
pub(crate) const BLOCKHASH: u8 = 0x40;
pub(crate) const TIMESTAMP: u8 = 0x42;
pub(crate) const NUMBER: u8 = 0x43;
pub(crate) const POP: u8 = 0x50;
pub(crate) const MSTORE: u8 = 0x52;
pub(crate) const SLOAD: u8 = 0x54;
pub(crate) const SSTORE: u8 = 0x55;
pub(crate) const JUMPI: u8 = 0x57;
pub(crate) const JUMPDEST: u8 = 0x5b;
pub(crate) const DUP1: u8 = 0x80;
pub(crate) const SWAP1: u8 = 0x90;
pub(crate) const LOG2: u8 = 0xa2;
pub(crate) const RETURN: u8 = 0xf3;
pub(crate) const REVERT: u8 = 0xfd;

fn size(item: &Item) -> usize {
    match item {
        Item::Op(_) | Item::Label(_) => 1,
        Item::Push(bytes) => 1 + bytes.len(),
        Item::Addr(_) => 3,
    }
}

/// Assembles `items` into bytecode.
pub(crate) fn assemble(items: &[Item]) -> Vec<u8> {
    let mut labels = HashMap::new();
    let mut offset = 0usize;
    for item in items {
        if let Item::Label(name) = item {
            labels.insert(*name, offset);
        }
        offset += size(item);
    }
    let mut code = Vec::with_capacity(offset);
    for item in items {
        match item {
            Item::Op(op) => code.push(*op),
            Item::Label(_) => code.push(JUMPDEST),
            Item::Push(bytes) => {
                assert!((1..=32).contains(&bytes.len()), "PUSH1..PUSH32");
                code.push(0x5f + bytes.len() as u8);
                code.extend_from_slice(bytes);
            }
            Item::Addr(name) => {
                let target = u16::try_from(labels[name]).expect("code below 64 KiB");
                code.push(0x61);
                code.extend_from_slice(&target.to_be_bytes());
            }
        }
    }
    code
}

/// Init code that deploys `runtime` as is.
pub(crate) fn deployer(runtime: &[u8]) -> Vec<u8> {
    let len = u16::try_from(runtime.len()).expect("runtime below 64 KiB");
    let header = [
        Item::Push(len.to_be_bytes().to_vec()),
        Item::Op(DUP1),
        Item::Push(13u16.to_be_bytes().to_vec()),
        Item::Push(vec![0]),
        Item::Op(CODECOPY),
        Item::Push(vec![0]),
        Item::Op(RETURN),
    ];
    let mut code = assemble(&header);
    assert_eq!(code.len(), 13, "header length is baked into the header");
    code.extend_from_slice(runtime);
    code
}
