//! A stand-in for the auth service's signing key: tests mint access tokens with it and
//! serve its public half as a JWKS to the verifier under test.

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

pub struct Ed25519Key {
    pub kid: String,
    signing: SigningKey,
}

impl Ed25519Key {
    pub fn new(kid: &str) -> Self {
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key as a one-key JWKS document.
    pub fn jwks(&self) -> Value {
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.signing.verifying_key().to_bytes());
        json!({ "keys": [
            { "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": x }
        ] })
    }

    /// Signs `claims` as an EdDSA JWT naming this key's kid.
    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        // PKCS#8 v1 wrapping of an Ed25519 seed: a fixed 16-byte prefix, then the seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&self.signing.to_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ed_der(&der),
        )?)
    }
}
