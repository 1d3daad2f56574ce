#![doc = include_str!("../README.md")]

mod cid;
mod disk;
mod error;
mod fetching;
mod http;
mod limits;
mod memory;
mod store;

pub use crate::{
    cid::{Cid, CidError, CidMismatch, MAX_CID_STRING_LEN, RAW_CODEC, SHA2_256},
    disk::DiskStore,
    error::{Result, StoreError},
    fetching::FetchingStore,
    http::{
        RAW_MEDIA_TYPE,
        client::{GatewayClient, GatewayOptions},
        server::{UploadResponse, app, serve},
    },
    limits::Limits,
    memory::MemoryStore,
    store::{BlobStore, BoxFuture},
};
