//! Known-answer vectors for the CID encoding, derived without the `cid` crate.
//!
//! A raw sha2-256 CIDv1 is the bytes `0x01 0x55 0x12 0x20 || sha256(x)`, RFC 4648 base32, lower
//! case, unpadded, behind the multibase prefix `b`. The strings below were computed with
//! Python's `hashlib` and `base64.b32encode` (see the README), not with this crate.

use verity_store::{Cid, CidError};

const VECTORS: &[(&[u8], &str, &str)] = &[
    (
        b"",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    (
        b"hello world",
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    ),
    (
        b"abc",
        "bafkreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    (
        b"foo",
        "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy",
        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    ),
];

#[test]
fn known_answers() {
    for (input, cid, digest) in VECTORS {
        let computed = Cid::of(input);
        assert_eq!(computed.to_string(), *cid, "input {input:?}");
        assert_eq!(computed.digest_hex(), *digest, "input {input:?}");
        assert_eq!(cid.parse::<Cid>().unwrap(), computed);
        assert!(computed.verify(input).is_ok());
    }
}

#[test]
fn all_256_byte_values() {
    let input: Vec<u8> = (0..=255).collect();
    assert_eq!(
        Cid::of(&input).to_string(),
        "bafkreicav7zotuwysixepl6umshgsz2jofmhqx55dwuhbzyrajtl7fciqa"
    );
}

#[test]
fn other_multibases_name_the_same_cid() {
    let hello = Cid::of(b"hello world");
    // base58btc (multibase `z`) and base32 upper (`B`) of the same binary CID.
    for s in [
        "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn",
        "BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E",
    ] {
        assert_eq!(s.parse::<Cid>().unwrap(), hello, "{s}");
    }
}

#[test]
fn rejects_cid_v0() {
    // sha256("hello world") as a CIDv0 (base58btc of 0x12 0x20 || digest).
    let err = "QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4"
        .parse::<Cid>()
        .unwrap_err();
    assert!(matches!(err, CidError::Version0 { .. }), "{err}");
}

#[test]
fn rejects_other_codecs() {
    // dag-pb (0x70) CIDv1 of the same digest.
    let err = "bafybeifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        .parse::<Cid>()
        .unwrap_err();
    assert!(matches!(err, CidError::Codec { codec: 0x70, .. }), "{err}");
}

#[test]
fn rejects_other_hashes() {
    // raw CIDv1 with a sha2-512 (0x13) multihash of "hello world".
    let err = "bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6"
        .parse::<Cid>()
        .unwrap_err();
    assert!(matches!(err, CidError::Hash { code: 0x13, .. }), "{err}");
}

#[test]
fn rejects_short_digests() {
    // sha2-256 code with a 31-byte digest.
    let err = "bafkreh5zjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n"
        .parse::<Cid>()
        .unwrap_err();
    assert!(
        matches!(err, CidError::DigestLength { len: 31, .. }),
        "{err}"
    );
}

#[test]
fn rejects_trailing_bytes_and_garbage() {
    for s in [
        // the hello-world CID with one extra zero byte after the digest
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5eaa",
        "",
        "b",
        "not a cid",
        "/ipfs/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e ",
    ] {
        let err = s.parse::<Cid>().unwrap_err();
        assert!(matches!(err, CidError::Malformed { .. }), "{s:?}: {err}");
        assert_eq!(err.code(), "V-CID-001");
    }
    let long = "b".repeat(10_000);
    assert!(matches!(
        long.parse::<Cid>(),
        Err(CidError::Malformed { .. })
    ));
}

#[test]
fn interoperates_with_the_cid_crate_type() {
    let ours = Cid::of(b"abc");
    let theirs = ours.to_ipfs();
    assert_eq!(theirs.to_string(), ours.to_string());
    assert_eq!(theirs.codec(), 0x55);
    assert_eq!(theirs.hash().code(), 0x12);
    assert_eq!(Cid::try_from(&theirs).unwrap(), ours);
}
