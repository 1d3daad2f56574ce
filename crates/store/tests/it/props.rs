//! Properties: arbitrary bytes roundtrip; any single flipped byte is detected.

use bytes::Bytes;
use proptest::prelude::*;
use verity_store::{BlobStore, Cid, DiskStore, Limits, MemoryStore, StoreError};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn put_get_roundtrips(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskStore::open(dir.path(), Limits::default()).unwrap();
        let memory = MemoryStore::default();
        rt.block_on(async {
            for store in [&disk as &dyn BlobStore, &memory] {
                let cid = store.put(Bytes::from(data.clone())).await.unwrap();
                prop_assert_eq!(cid, Cid::of(&data));
                prop_assert_eq!(cid.to_string().parse::<Cid>().unwrap(), cid);
                prop_assert_eq!(&store.get(&cid).await.unwrap()[..], &data[..]);
                prop_assert_eq!(store.size(&cid).await.unwrap(), Some(data.len() as u64));
            }
            Ok(())
        })?;
    }

    #[test]
    fn any_single_byte_flip_is_detected(
        data in proptest::collection::vec(any::<u8>(), 1..4096),
        index in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let cid = Cid::of(&data);
        let mut tampered = data.clone();
        let i = index.index(data.len());
        tampered[i] ^= flip;
        prop_assert!(cid.verify(&tampered).is_err());

        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskStore::open(dir.path(), Limits::default()).unwrap();
        rt.block_on(async {
            disk.put(Bytes::from(data.clone())).await.unwrap();
            std::fs::write(disk.path_of(&cid), &tampered).unwrap();
            match disk.get(&cid).await {
                Err(StoreError::Corrupt { actual, .. }) => prop_assert_eq!(actual, Cid::of(&tampered)),
                other => prop_assert!(false, "expected Corrupt, got {:?}", other),
            }
            Ok(())
        })?;
    }
}
