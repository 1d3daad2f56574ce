//! The SDK against the embedded devchain and an in-process gateway: the requester's whole
//! path, with the coordinator and the operator played by hand through the settlement client.

mod flow;
mod zk;
