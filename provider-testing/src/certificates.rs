//! A private certificate authority for TLS tests.

use std::io;
use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};

/// A fresh CA and a server certificate it signs for `127.0.0.1` and `localhost`, as PEM files
/// in a temporary directory removed when this is dropped. Nothing on the machine trusts the CA:
/// a client trusts the server only when given [`TestCertificates::ca_file`] or
/// [`TestCertificates::ca_pem`].
#[derive(Debug)]
pub struct TestCertificates {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl TestCertificates {
    /// Generates the CA, the server's key and its certificate.
    pub fn generate() -> io::Result<Self> {
        let invalid = |error: rcgen::Error| io::Error::other(error.to_string());
        let ca_key = KeyPair::generate().map_err(invalid)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(invalid)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca.self_signed(&ca_key).map_err(invalid)?;
        let key = KeyPair::generate().map_err(invalid)?;
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(invalid)?
            .signed_by(&key, &ca, &ca_key)
            .map_err(invalid)?;
        let certificates = Self {
            dir: tempfile::Builder::new().prefix("test-ca-").tempdir()?,
            ca_pem: ca.pem(),
        };
        std::fs::write(certificates.ca_file(), &certificates.ca_pem)?;
        std::fs::write(certificates.cert_file(), cert.pem())?;
        std::fs::write(certificates.key_file(), key.serialize_pem())?;
        Ok(certificates)
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The file holding [`TestCertificates::ca_pem`].
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate, PEM.
    pub fn cert_file(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key, PEM.
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("server-key.pem")
    }
}
