//! The `edufed.v1` protocol: messages, tonic clients and servers, and the
//! descriptor set used for server reflection and JSON rendering.

/// Generated code of the `edufed.v1` package.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("edufed.v1");
}

/// The encoded `FileDescriptorSet` of every proto file of the API, with its
/// imports and source comments.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/edufed_descriptor.bin"));
