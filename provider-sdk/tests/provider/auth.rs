//! Connecting to a NATS that asks for credentials: user and password, JWT and seed (from
//! `HostData`, as hosts pass them), a `.creds` file, TLS with a private CA; wrong credentials fail
//! at once, an absent server is waited for.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::KeyPair;
use provider_sdk::Error;
use provider_sdk::provider::{
    self, NatsAuth, NatsOptions, RunningProvider, RuntimeOptions, StandaloneArgs, Startup,
};
use provider_testing::{NatsServer, NatsServerConfig, TestCertificates, TestHost};

use super::{PROVIDER, Probe, calls, link};

/// A host connected with `options`, and the probe provider started standalone with `args`
/// (URL, lattice and id filled in), with one link from `comp`.
async fn standalone(
    url: &str,
    host_options: NatsOptions,
    mut args: StandaloneArgs,
) -> (TestHost, RunningProvider) {
    let client = host_options.connect().await.unwrap();
    let host = TestHost::with_client(client, url, PROVIDER).await.unwrap();
    args.nats.url = url.to_owned();
    args.lattice = host.lattice().to_owned();
    args.provider_id = Some(PROVIDER.to_owned());
    args.nats_connect_attempts = 1;
    let running = provider::start(
        Probe::default(),
        Startup::standalone(args).unwrap(),
        RuntimeOptions::default(),
    )
    .await
    .unwrap();
    host.put_link(&link("comp", "default").target_config("k", "v"))
        .await
        .unwrap();
    assert_served(&host).await;
    (host, running)
}

/// The provider answers a call, with the link's configuration.
async fn assert_served(host: &TestHost) {
    assert!(
        provider_testing::eventually(|| async {
            // Refused until the link is in effect.
            let client = host.component("comp", "default").unwrap();
            matches!(calls::whoami(&client, "k").await, Ok((_, _, Some(v))) if v == "v")
        })
        .await
    );
}

/// Connecting with `options` fails on the first attempt, though more were allowed.
async fn assert_refused_at_once(options: NatsOptions, secret: &str) -> String {
    let error = options.connect_attempts(5).connect().await.unwrap_err();
    let Error::Connect { attempts, .. } = &error else {
        panic!("not a connect error: {error}");
    };
    assert_eq!(*attempts, 1, "a credentials error is not retried: {error}");
    let message = error.to_string();
    assert!(
        !message.contains(secret),
        "the error shows a secret: {message}"
    );
    message
}

#[tokio::test]
async fn user_and_password() {
    let nats = NatsServer::start_with(
        NatsServerConfig::default()
            .extra(r#"authorization { user: "provider", password: "s3cret-pw" }"#),
    )
    .unwrap();
    let auth = NatsAuth::UserPassword {
        user: "provider".into(),
        password: "s3cret-pw".into(),
    };
    let mut args = StandaloneArgs::default();
    args.nats.user = Some("provider".into());
    args.nats.password = Some("s3cret-pw".into());
    let (host, running) =
        standalone(&nats.url(), NatsOptions::new(nats.url()).auth(auth), args).await;

    let wrong = NatsAuth::UserPassword {
        user: "provider".into(),
        password: "wrong-pw".into(),
    };
    let message =
        assert_refused_at_once(NatsOptions::new(nats.url()).auth(wrong), "wrong-pw").await;
    assert!(message.contains("authorization"), "{message}");
    // Credentials in the URL are used (async-nats ignores them by itself)...
    let in_url = format!("nats://provider:s3cret-pw@{}", nats.addr());
    NatsOptions::new(in_url)
        .connect_attempts(1)
        .connect()
        .await
        .expect("user and password from the URL");
    // ...and never shown.
    let in_url = format!("nats://provider:wrong-pw@{}", nats.addr());
    let message = assert_refused_at_once(NatsOptions::new(in_url), "wrong-pw").await;
    assert!(message.contains("provider:***@"), "{message}");

    running.shutdown().await.unwrap();
    drop(host);
}

/// An operator, an account it signs and users the account signs, as `nsc` would make them.
struct Operator {
    operator: KeyPair,
    account: KeyPair,
}

impl Operator {
    fn new() -> Self {
        Self {
            operator: KeyPair::new_operator(),
            account: KeyPair::new_account(),
        }
    }

    /// The server's configuration: trust this operator, know this account.
    fn server_config(&self) -> String {
        let operator = jwt(
            &self.operator,
            &self.operator.public_key(),
            serde_json::json!({"type": "operator", "version": 2}),
        );
        let account = jwt(
            &self.operator,
            &self.account.public_key(),
            serde_json::json!({
                "type": "account",
                "version": 2,
                "limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1,
                           "exports": -1, "wildcards": true, "conn": -1, "leaf": -1},
            }),
        );
        format!(
            "operator: \"{operator}\"\nresolver: MEMORY\nresolver_preload: {{ {}: \"{account}\" }}",
            self.account.public_key()
        )
    }

    /// A new user's JWT and seed.
    fn user(&self) -> (String, String) {
        let user = KeyPair::new_user();
        let token = jwt(
            &self.account,
            &user.public_key(),
            serde_json::json!({"type": "user", "version": 2,
                               "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}),
        );
        (token, user.seed().unwrap())
    }
}

/// A NATS JWT: `claims` about `subject`, signed by `issuer`.
fn jwt(issuer: &KeyPair, subject: &str, nats: serde_json::Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        "jti": format!("{subject}{now}"),
        "iat": now,
        "iss": issuer.public_key(),
        "sub": subject,
        "name": "test",
        "nats": nats,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(issuer.sign(signed.as_bytes()).unwrap());
    format!("{signed}.{signature}")
}

fn creds_file(dir: &Path, (jwt, seed): &(String, String)) -> PathBuf {
    let path = dir.join("user.creds");
    std::fs::write(
        &path,
        format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn jwt_and_seed_from_host_data_and_a_creds_file() {
    let operator = Operator::new();
    let nats = NatsServer::start_with(NatsServerConfig::default().extra(operator.server_config()))
        .unwrap();
    // The host connects with a creds file.
    let dir = tempfile::tempdir().unwrap();
    let creds = creds_file(dir.path(), &operator.user());
    let client = NatsOptions::new(nats.url())
        .auth(NatsAuth::CredsFile(creds))
        .connect()
        .await
        .unwrap();
    let host = TestHost::with_client(client, &nats.url(), PROVIDER)
        .await
        .unwrap();
    host.with_initial_link(link("comp", "default").target_config("k", "v"));
    // The provider with the JWT and seed a host puts in `HostData`.
    let (user_jwt, user_seed) = operator.user();
    let mut data = host.host_data().unwrap();
    data.lattice_rpc_user_jwt = user_jwt;
    data.lattice_rpc_user_seed = user_seed.clone();
    let running = provider::start(
        Probe::default(),
        Startup::from_host_data(data).unwrap(),
        RuntimeOptions::default(),
    )
    .await
    .unwrap();
    assert_served(&host).await;

    // A user of an account the server does not know is refused at once.
    let stranger = Operator::new();
    let (jwt, seed) = stranger.user();
    assert_refused_at_once(
        NatsOptions::new(nats.url()).auth(NatsAuth::Jwt {
            jwt,
            seed: seed.clone(),
        }),
        &seed,
    )
    .await;
    // So is no credential at all.
    assert_refused_at_once(NatsOptions::new(nats.url()), &user_seed).await;
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let certificates = TestCertificates::generate().unwrap();
    let ca = certificates.ca_file();
    let nats = NatsServer::start_with(NatsServerConfig::default().extra(format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}",
        certificates.cert_file().display().to_string(),
        certificates.key_file().display().to_string()
    )))
    .unwrap();
    let url = format!("tls://{}", nats.addr());
    let mut args = StandaloneArgs::default();
    args.nats.ca = Some(ca.clone());
    let (host, running) =
        standalone(&url, NatsOptions::new(url.clone()).tls_ca_file(&ca), args).await;
    // Without the CA the server's certificate is not trusted, and that is not retried.
    let message = assert_refused_at_once(NatsOptions::new(url.clone()), "-").await;
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    // The CA given as PEM text works as the file does.
    NatsOptions::new(url.clone())
        .tls_ca_pem(certificates.ca_pem())
        .connect()
        .await
        .unwrap();
    // PEM text without a certificate is refused, saying so.
    let error = NatsOptions::new(url.clone())
        .tls_ca_pem("not a certificate")
        .connect()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no certificate"), "{error}");
    // A CA file that is not there is named.
    let error = NatsOptions::new(url)
        .tls_ca_file(certificates.ca_file().with_file_name("absent.pem"))
        .connect()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("absent.pem"), "{error}");
    running.shutdown().await.unwrap();
    drop(host);
}

#[tokio::test]
async fn the_first_connect_waits_for_nats_to_come_up() {
    let mut nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    let mut args = StandaloneArgs::default();
    args.nats.url = nats.url();
    args.lattice = host.lattice().to_owned();
    args.provider_id = Some(PROVIDER.to_owned());
    args.nats_connect_attempts = 30;
    nats.stop();
    let starting = tokio::spawn(provider::start(
        Probe::default(),
        Startup::standalone(args).unwrap(),
        RuntimeOptions::default(),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        !starting.is_finished(),
        "start-up gave up while NATS was down"
    );
    nats.restart().unwrap();
    let running = starting.await.unwrap().unwrap();
    host.put_link(&link("comp", "default").target_config("k", "v"))
        .await
        .unwrap();
    assert_served(&host).await;
    running.shutdown().await.unwrap();
}
